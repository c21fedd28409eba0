"""Direct hand-off: a create whose deliveries the local worker can start now gives them to it.

When one process owns an SQLite file and runs both the API and the worker (``role all``), a
delivery to an endpoint whose gate is trivially open (worker has a free slot, endpoint healthy,
below its in-flight cap, no rate limit, not FIFO, not batched, no ``deliverAt``, no due backlog)
would be claimed by the very next claim round anyway. The create transaction writes such a
delivery already claimed, exactly as a claim writes it (SENDING with a lease, so a crash still
reclaims it), and once the transaction has committed the worker starts it from memory: no claim
round, no read of the message and endpoint it already has.

:class:`HandOff` is the worker's in-flight ledger (total and per endpoint), shared by its own
claims and the hand-offs; the create transaction (``Database.run_write``) reserves slots in
it, and the reservations of a transaction are started after it commits or released when it fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from hookd.core.batch import is_batched
from hookd.core.domain import Endpoint, Message
from hookd.store.scheduling import Claim


@dataclass(frozen=True, slots=True)
class HandedOff:
    """A delivery written already claimed, with what the worker needs to send it."""

    claim: Claim
    message: Message
    endpoint: Endpoint


def may_hand_off(endpoint: Endpoint, due: datetime | None, *, app_rate_limit: int | None) -> bool:
    """What the endpoint's settings allow; its health and backlog are checked in the database.

    ``app_rate_limit``: its application's, which applies when the endpoint has none."""
    return (
        due is None
        and not endpoint.disabled
        and endpoint.rate_limit is None
        and app_rate_limit is None
        and not endpoint.fifo
        and not is_batched(endpoint.batch_size, endpoint.fifo)
    )


class HandOff:
    """In-flight counts of one worker, and the hand-offs of the create transaction running now.

    ``offer`` runs inside a create transaction (they take turns, so at most one transaction
    stages at a time). Everything runs on the event loop, SQLite's write transactions included
    (``store.sqlite_writer``), so the counts need no lock.
    """

    def __init__(
        self,
        *,
        concurrency: int,
        per_endpoint: int,
        lease_seconds: float,
        start: Callable[[list[HandedOff]], None],
    ) -> None:
        self.concurrency = concurrency
        self.per_endpoint = per_endpoint
        self.lease = timedelta(seconds=lease_seconds)
        self._start = start
        self._total = 0
        self._by_endpoint: dict[str, int] = {}
        self._staged: list[HandedOff] = []
        self._open = True
        # Whether other processes deliver too (``HOOKD_DELIVERY_PROCESSES``): then this ledger
        # does not see all of an endpoint's deliveries in flight, and a create counts them in
        # the database before it hands any off.
        self.shared = False

    @property
    def in_flight(self) -> int:
        """Deliveries held: sending, or reserved by a create transaction not yet settled."""
        return self._total

    def close(self) -> None:
        """No more hand-offs (the worker is stopping); creates queue their deliveries."""
        self._open = False

    def offer(self, item: HandedOff) -> bool:
        """Reserve a slot for ``item`` if the worker and its endpoint have one (in a create
        transaction)."""
        endpoint_id = item.claim.endpoint_id
        held = self._by_endpoint.get(endpoint_id, 0)
        if not self._open or self._total >= self.concurrency or held >= self.per_endpoint:
            return False
        self._total += 1
        self._by_endpoint[endpoint_id] = held + 1
        self._staged.append(item)
        return True

    def after_transaction(self, committed: bool) -> None:
        """The staging transaction ended: start its hand-offs, or give their slots back."""
        staged, self._staged = self._staged, []
        if not staged:
            return
        if committed:
            self._start(staged)
        else:
            # Rolled back, or cancelled without knowing: if the rows did commit, they are
            # reclaimed when their lease runs out (or on restart), as after a crash.
            self.finished(item.claim.endpoint_id for item in staged)

    def started(self, endpoint_ids: Iterable[str]) -> None:
        """The worker claimed deliveries of these endpoints (one id per delivery)."""
        for endpoint_id in endpoint_ids:
            self._total += 1
            self._by_endpoint[endpoint_id] = self._by_endpoint.get(endpoint_id, 0) + 1

    def finished(self, endpoint_ids: Iterable[str]) -> None:
        """Deliveries of these endpoints are no longer in flight (one id per delivery)."""
        for endpoint_id in endpoint_ids:
            self._total -= 1
            left = self._by_endpoint[endpoint_id] - 1
            if left:
                self._by_endpoint[endpoint_id] = left
            else:
                del self._by_endpoint[endpoint_id]
