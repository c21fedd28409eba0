"""Keys hookd generates for itself and shares through the database with all its processes."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.store.schema import server_keys
from hookd.store.sealing import open_bytes, seal_bytes

KEY = "server_keys.key"  # sealed (store.sealing)


async def get_key(conn: AsyncConnection, name: str) -> bytes | None:
    found = (
        await conn.execute(select(server_keys.c.key).where(server_keys.c.name == name))
    ).scalar_one_or_none()
    return None if found is None else open_bytes(found, KEY)


async def insert_key(conn: AsyncConnection, name: str, key: bytes, now_ms: int) -> None:
    await conn.execute(
        insert(server_keys).values(name=name, key=seal_bytes(key, KEY), created_at=now_ms)
    )
