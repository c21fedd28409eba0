"""The other payload versions a message carries, as exact bytes, one row per version."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.store.schema import message_versions


def version_rows(msg_id: str, versions: Mapping[int, bytes]) -> list[dict[str, Any]]:
    return [{"msg_id": msg_id, "version": v, "payload": body} for v, body in versions.items()]


async def insert_versions(
    conn: AsyncConnection, msg_id: str, versions: Mapping[int, bytes]
) -> None:
    if versions:
        await conn.execute(insert(message_versions), version_rows(msg_id, versions))


def versions_of(conn: Connection, msg_ids: list[str]) -> dict[str, dict[int, bytes]]:
    """Every stored version of these messages, by message id (one query)."""
    if not msg_ids:
        return {}
    query = select(
        message_versions.c.msg_id, message_versions.c.version, message_versions.c.payload
    ).where(message_versions.c.msg_id.in_(msg_ids))
    found: dict[str, dict[int, bytes]] = {}
    for msg_id, version, payload in conn.execute(query).all():
        found.setdefault(msg_id, {})[version] = payload
    return found


async def delete_versions(conn: AsyncConnection, msg_id: str) -> None:
    await conn.execute(delete(message_versions).where(message_versions.c.msg_id == msg_id))


async def delete_versions_of(conn: AsyncConnection, msg_ids: list[str]) -> None:
    """Delete every other version of these messages (one statement)."""
    if msg_ids:
        await conn.execute(delete(message_versions).where(message_versions.c.msg_id.in_(msg_ids)))
