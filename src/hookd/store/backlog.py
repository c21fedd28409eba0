"""The queue's state as metrics read it: the due deliveries, and the endpoints by health.

Each read uses an index and never touches attempts: the due deliveries are the entries of the
partial index ``ix_deliveries_due`` (pending rows only) up to now, the deliveries in flight those
of ``ix_deliveries_leased``, and the endpoints one row each with their scheduler state.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.store.scheduling import PENDING, SENDING
from hookd.store.schema import deliveries, endpoint_state, endpoints

d, e, s = deliveries.c, endpoints.c, endpoint_state.c

# Endpoint states, in the order they are decided (the first that applies).
DISABLED, BREAKER_OPEN, FAILING, HEALTHY = "disabled", "breaker_open", "failing", "healthy"
ENDPOINT_STATES = (HEALTHY, FAILING, BREAKER_OPEN, DISABLED)


@dataclass(frozen=True, slots=True)
class Backlog:
    due: int  # pending deliveries whose time has come
    oldest_due_ms: int | None  # when the longest-waiting of them became due
    in_flight: int  # deliveries claimed by a worker, being sent


async def backlog(conn: AsyncConnection, now_ms: int) -> Backlog:
    due = await conn.execute(
        select(func.count(), func.min(d.next_attempt_at)).where(
            d.status == PENDING, d.next_attempt_at <= now_ms
        )
    )
    count, oldest = due.one()
    in_flight = await conn.execute(select(func.count()).where(d.status == SENDING))
    return Backlog(int(count), None if oldest is None else int(oldest), int(in_flight.scalar_one()))


async def endpoint_states(conn: AsyncConnection, now_ms: int) -> dict[str, int]:
    """How many endpoints are in each of :data:`ENDPOINT_STATES` (every state present)."""
    state = case(
        (e.disabled, literal(DISABLED)),
        (s.open_until > now_ms, literal(BREAKER_OPEN)),
        (s.failures > 0, literal(FAILING)),
        else_=literal(HEALTHY),
    ).label("state")
    rows = await conn.execute(
        select(state, func.count())
        .select_from(endpoints.outerjoin(endpoint_state, s.endpoint_id == e.id))
        .group_by(state)
    )
    counts = dict.fromkeys(ENDPOINT_STATES, 0)
    for name, count in rows.all():
        counts[str(name)] = int(count)
    return counts
