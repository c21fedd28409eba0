"""The delivery worker's in-flight ledger, shared by its claims and the direct hand-offs.

:class:`HandOff` counts this process's deliveries in flight (total and per endpoint). The
worker's claim rounds count theirs in it, and a create transaction (``services.messages.batch``,
which sees it as a :class:`~hookd.services.handoff.HandOffLedger`) reserves slots in it for
deliveries it writes already claimed; the reservations of a transaction are started after it
commits or released when it fails. The runtime (``engine.runtime``) makes one per process that
owns an SQLite file and runs both the API and the worker (``role all``), and opens it while the
worker runs. See ``services.handoff`` for what a hand-off is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

from hookd.services.handoff import HandedOff


class HandOff:
    """In-flight counts of one worker, and the hand-offs of the create transaction running now.

    ``offer`` runs inside a create transaction (they take turns, so at most one transaction
    stages at a time). Everything runs on the event loop, SQLite's write transactions included
    (``store.sqlite.writer``), so the counts need no lock.
    """

    def __init__(
        self,
        *,
        concurrency: int,
        per_endpoint: int,
        lease_seconds: float,
        shared: bool = False,
    ) -> None:
        self.concurrency = concurrency
        self.per_endpoint = per_endpoint
        self.lease = timedelta(seconds=lease_seconds)
        # Whether other processes deliver too (``HOOKD_DELIVERY_PROCESSES``): then this ledger
        # does not see all of an endpoint's deliveries in flight, and a create counts them in
        # the database before it hands any off.
        self.shared = shared
        self._start: Callable[[list[HandedOff]], None] | None = None
        self._total = 0
        self._by_endpoint: dict[str, int] = {}
        self._staged: list[HandedOff] = []
        self._open = False

    def open(self, start: Callable[[list[HandedOff]], None]) -> None:
        """Take hand-offs from now on; ``start`` runs them (the worker, once it runs)."""
        self._start = start
        self._open = True

    @property
    def in_flight(self) -> int:
        """Deliveries held: sending, or reserved by a create transaction not yet settled."""
        return self._total

    def close(self) -> None:
        """No more hand-offs (the worker is stopping); creates queue their deliveries.

        A transaction that staged before this still starts its hand-offs when it commits: the
        worker takes them, or gives their slots back if it is stopping."""
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
        if committed and self._start is not None:
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
