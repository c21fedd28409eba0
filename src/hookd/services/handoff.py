"""Direct hand-off: a create whose deliveries the local worker can start now gives them to it.

When one process owns an SQLite file and runs both the API and the worker (``role all``), a
delivery to an endpoint whose gate is trivially open (worker has a free slot, endpoint healthy,
below its in-flight cap, no rate limit, not FIFO, not batched, no ``deliverAt``, no due backlog)
would be claimed by the very next claim round anyway. The create transaction writes such a
delivery already claimed, exactly as a claim writes it (SENDING with a lease, so a crash still
reclaims it), and once the transaction has committed the worker starts it from memory: no claim
round, no read of the message and endpoint it already has.

:class:`HandOffLedger` is what a create transaction sees of the worker's in-flight ledger
(``engine.handoff.HandOff``, total and per endpoint, shared by its own claims and the hand-offs):
the transaction reserves slots in it, and the reservations of a transaction are started after it
commits or released when it fails. The ledger belongs to the engine; services only know this
protocol (``Context.handoff``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from hookd.core.domain import Claim, Endpoint, Message
from hookd.core.payloads.batch import is_batched


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


class HandOffLedger(Protocol):
    """The worker's in-flight ledger as a create transaction uses it (``engine.handoff``)."""

    # Whether other processes deliver too: then a create counts each endpoint's deliveries in
    # flight in the database before it hands any off.
    shared: bool
    per_endpoint: int  # deliveries in flight one endpoint may have
    lease: timedelta  # the lease a handed-off delivery is written with

    def offer(self, item: HandedOff) -> bool:
        """Reserve a slot for ``item`` if the worker and its endpoint have one."""
        ...

    def after_transaction(self, committed: bool) -> None:
        """The staging transaction ended: start its hand-offs, or give their slots back."""
        ...
