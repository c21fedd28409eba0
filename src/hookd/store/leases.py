"""Leases: one process at a time does a job (the alert evaluator), across processes and hosts.

A lease is a row: its ``holder`` and until when it holds (``expires_at``). ``take`` is one
``UPDATE ... WHERE holder = me OR the lease ran out``: SQLite runs write transactions one at a
time, and on PostgreSQL a second UPDATE of the row waits for the first one's commit and then
re-checks its WHERE against the new row, so two processes never both see their UPDATE match.
The first ``take`` of a name inserts its row (``ON CONFLICT DO NOTHING``: one insert wins).
``generation`` counts the times the lease changed hands.
"""

from __future__ import annotations

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.store.schema import leases

c = leases.c


async def take(conn: AsyncConnection, name: str, holder: str, now_ms: int, until_ms: int) -> bool:
    """Take or renew the lease ``name`` until ``until_ms``; True when ``holder`` holds it.
    Inside the caller's write transaction: on PostgreSQL the row stays locked until it ends."""
    result = await conn.execute(
        update(leases)
        .where(c.name == name, or_(c.holder == holder, c.expires_at <= now_ms))
        .values(
            holder=holder,
            expires_at=until_ms,
            # A new holder: the lease changed hands.
            generation=c.generation + case((c.holder != holder, 1), else_=0),
        )
    )
    if result.rowcount:
        return True
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(leases)
    created = await conn.execute(
        insert.values(
            name=name, holder=holder, expires_at=until_ms, generation=1
        ).on_conflict_do_nothing(index_elements=[c.name])
    )
    return bool(created.rowcount)


async def holds(conn: AsyncConnection, name: str, holder: str, now_ms: int, until_ms: int) -> bool:
    """Renew the lease only if ``holder`` still holds it (not run out): the fence of a job's
    writes, first in their transaction."""
    result = await conn.execute(
        update(leases)
        .where(and_(c.name == name, c.holder == holder, c.expires_at > now_ms))
        .values(expires_at=until_ms)
    )
    return bool(result.rowcount)


async def release(conn: AsyncConnection, name: str, holder: str) -> None:
    """Give the lease up (a stopping process), so another takes it at once."""
    await conn.execute(
        update(leases).where(c.name == name, c.holder == holder).values(expires_at=0)
    )


async def read(conn: AsyncConnection, name: str) -> tuple[str, int, int] | None:
    """(holder, expires_at, generation) of the lease, or None (never taken)."""
    row = (await conn.execute(select(leases).where(c.name == name))).first()
    return None if row is None else (row.holder, row.expires_at, row.generation)
