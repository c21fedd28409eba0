"""Idempotency-Key records (Svix semantics: the first 2xx answer to a key is replayed for 12 h)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.store.schema import idempotency_keys as t

# A "started" record older than this belongs to a request that died; the key is free again.
STALE_START_MS = 60_000


async def claim_key(
    conn: AsyncConnection, key: str, now_ms: int, expires_ms: int
) -> Row[Any] | None:
    """Mark ``key`` as started; return the existing record instead when there is one."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stale = (t.c.expires_at < now_ms) | (
        (t.c.state == "started") & (t.c.created_at < now_ms - STALE_START_MS)
    )
    await conn.execute(delete(t).where(t.c.key == key, stale))
    row = {"key": key, "state": "started", "created_at": now_ms, "expires_at": expires_ms}
    result = await conn.execute(dialect.insert(t).values(row).on_conflict_do_nothing())
    if result.rowcount == 1:
        return None
    return (await conn.execute(select(t).where(t.c.key == key))).first()


async def complete_key(
    conn: AsyncConnection, key: str, status_code: int, content_type: str, body: bytes
) -> None:
    await conn.execute(
        update(t)
        .where(t.c.key == key)
        .values(state="done", status_code=status_code, content_type=content_type, body=body)
    )


async def release_key(conn: AsyncConnection, key: str) -> None:
    """Forget a started key whose request did not succeed, so it can be tried again."""
    await conn.execute(delete(t).where(t.c.key == key, t.c.state == "started"))


async def purge_expired_keys(conn: AsyncConnection, now_ms: int) -> int:
    result = await conn.execute(delete(t).where(t.c.expires_at < now_ms))
    return int(result.rowcount)


async def count_expired_keys(conn: AsyncConnection, now_ms: int) -> int:
    query = select(func.count()).select_from(t).where(t.c.expires_at < now_ms)
    return int((await conn.execute(query)).scalar_one())
