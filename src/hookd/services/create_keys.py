"""Idempotency keys of message creates, claimed and answered inside the creates' transaction.

Every Svix SDK sends an ``Idempotency-Key`` with each create. Claiming the key and keeping the
answer in transactions of their own (``services/idempotency.py``, which still does so for the
other POST routes) cost a create two more write transactions (measured: README, Performance).
Here the group commit of the creates claims its keys first, creates what is new, and stores
each created message's answer before the same commit: the key and the message are written
together or not at all, so no other transaction ever sees a key half done.

A key already answered refuses its create with :class:`KeyHeld`, which the route replays. Two
creates of one group with one key: the second gets the first's outcome. A key first used for
another request (its fingerprint differs) refuses the create with :class:`KeyMismatch` (422),
as Stripe does: a different request must not be answered with the first one's response.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection

from hookd.core.domain import Message
from hookd.services.errors import Invalid
from hookd.services.idempotency import claim_for
from hookd.store import idempotency as store

ANSWER_STATUS = 201
ANSWER_TYPE = "application/json"

# A create's outcome in its group: a tuple with the created message first, or why not.
Created = TypeVar("Created", bound=tuple[Message, *tuple[Any, ...]])


@dataclass(frozen=True, slots=True)
class KeyRequest:
    """A create's key, scoped to its caller and route, and how to render its answer."""

    key: str
    answer: Callable[[Message], bytes]  # the body the route sends for the created message
    fingerprint: str  # of the request (``services.idempotency.fingerprint``): body and query


class KeyHeld(Exception):
    """The key belongs to an earlier request: answered (``state`` done) or still running."""

    def __init__(self, state: str, status_code: int, content_type: str, body: bytes) -> None:
        super().__init__(f"idempotency key {state}")
        self.state = state
        self.status_code = status_code
        self.content_type = content_type
        self.body = body


class KeyMismatch(Invalid):
    """The key was first used for a request with another body or query (422)."""

    code = "idempotency_key_mismatch"

    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was already used for a different request (another body or "
            "query string); send a new key for a new request",
            loc=("header", "idempotency-key"),
        )


class _SameKeyAsEarlier(Exception):
    """Placeholder: a create of the group repeats an earlier one's key (resolved at settle)."""


class GroupKeys:
    """The keys of one create group: claimed before its creates, answered after them."""

    def __init__(
        self, conn: Connection, keys: Sequence[KeyRequest | None], now_ms: Sequence[int]
    ) -> None:
        """``now_ms``: when each create was accepted (its key's answer lives from then)."""
        wanted = [(i, request) for i, request in enumerate(keys) if request is not None]
        claims = [claim_for(r.key, now_ms[i], r.fingerprint) for i, r in wanted]
        found = store.claim_keys(conn, claims)
        self._requests = keys
        self._refused: dict[int, Exception] = {}
        self._claimed: list[int] = []
        first: dict[str, tuple[int, str]] = {}  # key -> its first create and fingerprint
        for (i, request), row in zip(wanted, found, strict=True):
            if request.key in first:
                earlier, earlier_fingerprint = first[request.key]
                same = earlier_fingerprint == request.fingerprint
                self._refused[i] = _SameKeyAsEarlier(earlier) if same else KeyMismatch()
            elif row is None:
                first[request.key] = (i, request.fingerprint)
                self._claimed.append(i)
            elif store.fingerprint_differs(row, request.fingerprint):
                self._refused[i] = KeyMismatch()
            else:
                held = row._mapping
                self._refused[i] = KeyHeld(
                    held["state"],
                    held["status_code"] or 0,
                    held["content_type"] or ANSWER_TYPE,
                    store.answer_body(held["body"]),
                )

    def refusal(self, index: int) -> Exception | None:
        """Why the create at ``index`` must not run (its key is held), or None."""
        return self._refused.get(index)

    def settle(
        self, conn: Connection, outcomes: list[Created | Exception]
    ) -> list[Created | Exception]:
        """Keep the answer of each created message under its key and free the keys of refused
        creates; a repeated key gets its first create's outcome."""
        settled: list[store.KeyOutcome] = []
        for i in self._claimed:
            outcome, request = outcomes[i], self._requests[i]
            assert request is not None
            if isinstance(outcome, Exception):
                settled.append(store.KeyOutcome(request.key, None))
            else:
                body = request.answer(outcome[0])
                settled.append(store.KeyOutcome(request.key, (ANSWER_STATUS, ANSWER_TYPE, body)))
        store.settle_keys(conn, settled)
        answers = {o.key: o.answer for o in settled}
        for i, refused in self._refused.items():
            if isinstance(refused, _SameKeyAsEarlier):
                (earlier,) = refused.args
                request = self._requests[i]
                assert request is not None
                answer = answers.get(request.key)
                outcomes[i] = (
                    outcomes[earlier]
                    if answer is None
                    else KeyHeld("done", answer[0], answer[1], answer[2])
                )
        return outcomes
