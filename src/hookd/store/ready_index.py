"""Reads for the Redis queue index: which endpoints are ready when, straight from the database.

``endpoint_state.ready_at`` stays the truth; Redis only mirrors it (see ``engine/queue``), so
after a Redis restart, a lost signal or a claim round, these reads say what Redis should hold.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.store.schema import endpoint_state

state = endpoint_state.c


@dataclass(frozen=True, slots=True)
class ReadyState:
    ready_at: int | None  # ms; None: nothing to do until one of its deliveries ends
    failing: bool  # its circuit has failures (a worker out of failing budget skips it)


def ready_states(conn: Connection, endpoint_ids: Collection[str]) -> dict[str, ReadyState]:
    """The endpoints' ready times as this transaction sees them (missing: no state row)."""
    if not endpoint_ids:
        return {}
    query = select(state.endpoint_id, state.ready_at, state.failures).where(
        state.endpoint_id.in_(sorted(endpoint_ids))
    )
    return {
        row.endpoint_id: ReadyState(row.ready_at, bool(row.failures))
        for row in conn.execute(query).all()
    }


async def overdue(conn: AsyncConnection, before_ms: int, limit: int) -> dict[str, int]:
    """Endpoints ready since before ``before_ms``, oldest first (the safety poll's re-signal)."""
    query = (
        select(state.endpoint_id, state.ready_at)
        .where(state.ready_at <= before_ms)
        .order_by(state.ready_at)
        .limit(limit)
    )
    return {row.endpoint_id: row.ready_at for row in (await conn.execute(query)).all()}


async def ready_page(conn: AsyncConnection, after: str, limit: int) -> dict[str, int]:
    """Every endpoint with a ready time, in id order from ``after`` (reseeding Redis)."""
    query = (
        select(state.endpoint_id, state.ready_at)
        .where(state.ready_at.is_not(None), state.endpoint_id > after)
        .order_by(state.endpoint_id)
        .limit(limit)
    )
    return {row.endpoint_id: row.ready_at for row in (await conn.execute(query)).all()}
