"""Alert channels (``core.alerts.channels``); the config is sealed (it holds webhook URLs)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.core.alerts.channels import AlertChannel
from hookd.core.domain import Page
from hookd.store.codec import from_ms, to_ms
from hookd.store.pages import paginate
from hookd.store.schema import alert_channels as t
from hookd.store.sealing import open_json, seal_json

CONFIG = "alert_channels.config"  # sealed (store.sealing): Slack, Teams and Discord URLs


def channel_from_row(row: Row[Any]) -> AlertChannel:
    m = row._mapping
    return AlertChannel(
        id=m["id"],
        name=m["name"],
        type=m["type"],
        config=dict(open_json(m["config"], CONFIG) or {}),
        disabled=bool(m["disabled"]),
        endpoint_id=m["endpoint_id"],
        created_at=from_ms(m["created_at"]),
        updated_at=from_ms(m["updated_at"]),
    )


def _values(channel: AlertChannel) -> dict[str, Any]:
    return {
        "id": channel.id,
        "name": channel.name,
        "type": channel.type,
        "config": seal_json(channel.config, CONFIG),
        "disabled": channel.disabled,
        "endpoint_id": channel.endpoint_id,
        "created_at": to_ms(channel.created_at),
        "updated_at": to_ms(channel.updated_at),
    }


async def insert_channel(conn: AsyncConnection, channel: AlertChannel) -> None:
    await conn.execute(insert(t).values(_values(channel)))


async def save_channel(conn: AsyncConnection, channel: AlertChannel) -> None:
    await conn.execute(update(t).where(t.c.id == channel.id).values(_values(channel)))


async def delete_channel(conn: AsyncConnection, channel_id: str) -> None:
    await conn.execute(delete(t).where(t.c.id == channel_id))


async def get_channel(
    conn: AsyncConnection, channel_id: str, *, lock: bool = False
) -> AlertChannel | None:
    """The channel; ``lock``: locked against other writers until the transaction ends
    (PostgreSQL; SQLite has one writer at a time anyway)."""
    query = select(t).where(t.c.id == channel_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return channel_from_row(row) if row else None


async def channels_by_id(
    conn: AsyncConnection, channel_ids: Collection[str], *, share: bool = False
) -> dict[str, AlertChannel]:
    """The channels found among ``channel_ids``; ``share``: locked against deletion until the
    transaction ends (``FOR SHARE`` on PostgreSQL), as a rule naming them is saved."""
    if not channel_ids:
        return {}
    query = select(t).where(t.c.id.in_(list(channel_ids)))
    if share:
        query = query.with_for_update(read=True)
    rows = await conn.execute(query)
    return {row.id: channel_from_row(row) for row in rows}


async def list_channels(
    conn: AsyncConnection, *, iterator: str | None, limit: int, descending: bool
) -> Page[AlertChannel]:
    return await paginate(
        conn,
        select(t),
        t.c.id,
        channel_from_row,
        iterator=iterator,
        limit=limit,
        descending=descending,
    )
