"""The ``Idempotency-Key`` protocol (Svix semantics), apart from its HTTP plumbing.

A POST with a key gets the same answer for 12 hours (:data:`KEY_LIFETIME_MS`). The key is
scoped by the authenticated caller, the method and the path (:func:`scoped_key`), and keeps a
fingerprint of its first request (:func:`fingerprint`: query string and body); a request with
the key and another fingerprint is refused with 422 ``idempotency_key_mismatch``
(:class:`~hookd.services.create_keys.KeyMismatch`, as Stripe does) instead of being answered
with the first one's response. Only 2xx answers are kept (:func:`keep`), so a request that
failed can be retried with the same key. A request arriving while the first with its key is
still running waits for it (up to :data:`WAIT_SECONDS`) and then gets its answer
(:func:`claim`).

``api/idempotency.py`` is the ASGI middleware that reads the header and the body, runs the route
and captures its answer. Message creates, the hot route, claim and answer their keys inside the
create's own transaction (``services/create_keys.py``), with the same scope, fingerprint and
lifetime.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Row

from hookd.store import idempotency as store
from hookd.store.codec import to_ms
from hookd.store.db import Database
from hookd.store.group_commit import PerDatabase

# How long a key's answer is replayed (Svix: 12 hours).
KEY_LIFETIME_MS = 12 * 3600 * 1000
# How long a request waits for the first request with its key to finish, polling meanwhile.
WAIT_SECONDS = 5.0
POLL_SECONDS = 0.2
STILL_RUNNING = "a request with this Idempotency-Key is still running"


def scoped_key(caller: str, method: str, path: str, key: bytes) -> str:
    """The key as stored: the client's key within its caller, method and path."""
    digest = hashlib.sha256()
    for part in (caller.encode(), method.encode(), path.encode(), key):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


def fingerprint(query: bytes, body: bytes) -> str:
    """What a key's request is, to tell a repeat from another request: its query string and its
    exact body bytes (the body hashed once)."""
    digest = hashlib.sha256(query)
    digest.update(b"\0")
    digest.update(body)
    return digest.hexdigest()


def claim_for(key: str, now_ms: int, request_fingerprint: str) -> store.KeyClaim:
    """The claim of ``key`` by a request accepted at ``now_ms``, alive for the key's lifetime."""
    return store.KeyClaim(key, now_ms, now_ms + KEY_LIFETIME_MS, request_fingerprint)


@dataclass(frozen=True, slots=True)
class Claimed:
    """The key is this request's: run it, then :func:`keep` its answer."""


@dataclass(frozen=True, slots=True)
class Mismatch:
    """The key was first used for another request (422 ``idempotency_key_mismatch``)."""


@dataclass(frozen=True, slots=True)
class Replay:
    """The key's kept 2xx answer, to send again."""

    status_code: int
    content_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class StillRunning:
    """The first request with the key did not finish within :data:`WAIT_SECONDS` (409)."""


Decision = Claimed | Mismatch | Replay | StillRunning


async def claim(
    db: Database, clock: Callable[[], datetime], key: str, request_fingerprint: str
) -> Decision:
    """Claim ``key`` for a request, or say what the request gets instead."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while True:
        existing = await _claims.submit(
            db, claim_for(key, to_ms(clock()), request_fingerprint), sole_process=False
        )
        if existing is None:
            return Claimed()
        if store.fingerprint_differs(existing, request_fingerprint):
            return Mismatch()
        row = existing._mapping
        if row["state"] == "done":
            return Replay(row["status_code"], row["content_type"], store.answer_body(row["body"]))
        if loop.time() > deadline:
            return StillRunning()
        await asyncio.sleep(POLL_SECONDS)


async def keep(db: Database, key: str, status_code: int, content_type: str, body: bytes) -> None:
    """Settle a claimed key with its request's answer: a 2xx is kept (sealed: a secret rotation
    answers with the new secret), anything else frees the key for a retry."""
    answer = (
        (status_code, content_type, store.sealed_answer(body)) if 200 <= status_code < 300 else None
    )
    await _outcomes.submit(db, store.KeyOutcome(key, answer), sole_process=False)


def _claim_group(
    conn: Connection, claims: Sequence[store.KeyClaim], _cache: object
) -> list[Row[Any] | Exception | None]:
    return list(store.claim_keys(conn, claims))


def _settle_group(
    conn: Connection, outcomes: Sequence[store.KeyOutcome], _cache: object
) -> list[Exception | None]:
    store.settle_keys(conn, outcomes)
    return [None] * len(outcomes)


# The claims and the outcomes of concurrent requests are each written in one transaction
# (``store.group_commit``): two transactions of their own per request took the write turn from
# the creates' group commit, and a create with a key cost about ten times one without.
_claims: PerDatabase[store.KeyClaim, Row[Any] | None] = PerDatabase(_claim_group)
_outcomes: PerDatabase[store.KeyOutcome, None] = PerDatabase(_settle_group)
