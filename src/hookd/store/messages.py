"""Messages: the log of everything accepted, with the exact payload bytes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, cast, exists, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.core.domain import Message
from hookd.store.codec import from_ms, opt_tuple, to_ms
from hookd.store.pages import Page, paginate
from hookd.store.schema import messages as t


def message_from_row(row: Row[Any]) -> Message:
    m = row._mapping
    return Message(
        id=m["id"],
        app_id=m["app_id"],
        event_type=m["event_type"],
        event_id=m["event_id"],
        channels=opt_tuple(m["channels"]),
        tags=opt_tuple(m["tags"]),
        payload=m["payload"],
        created_at=from_ms(m["created_at"]),
        content_type=m["content_type"],
        headers=None if m["headers"] is None else dict(m["headers"]),
    )


def message_values(msg: Message) -> dict[str, Any]:
    return {
        "id": msg.id,
        "app_id": msg.app_id,
        "event_type": msg.event_type,
        "event_id": msg.event_id,
        "channels": None if msg.channels is None else list(msg.channels),
        "tags": None if msg.tags is None else list(msg.tags),
        "payload": msg.payload,
        "created_at": to_ms(msg.created_at),
        "content_type": msg.content_type,
        "headers": msg.headers,
    }


async def insert_message(conn: AsyncConnection, msg: Message) -> None:
    await conn.execute(insert(t).values(message_values(msg)))


async def get_message(conn: AsyncConnection, app_id: str, id_or_event_id: str) -> Message | None:
    """By id, or by the producer's ``eventId``."""
    for column in (t.c.id, t.c.event_id):
        row = (
            await conn.execute(select(t).where(t.c.app_id == app_id, column == id_or_event_id))
        ).first()
        if row:
            return message_from_row(row)
    return None


async def messages_by_id(conn: AsyncConnection, ids: list[str]) -> dict[str, Message]:
    if not ids:
        return {}
    rows = (await conn.execute(select(t).where(t.c.id.in_(ids)))).all()
    return {row._mapping["id"]: message_from_row(row) for row in rows}


async def expunge_payload(conn: AsyncConnection, msg_id: str) -> None:
    await conn.execute(update(t).where(t.c.id == msg_id).values(payload=None))


def has_channel(
    conn: AsyncConnection, column: ColumnElement[Any], channel: str
) -> ColumnElement[bool]:
    """SQL for "this JSON array column contains ``channel``", per dialect."""
    if conn.dialect.name == "postgresql":
        contains: ColumnElement[bool] = cast(column, JSONB).has_key(channel)
        return contains
    each = func.json_each(column).table_valued("value")
    return exists(select(text("1")).select_from(each).where(each.c.value == channel))


def filtered(
    conn: AsyncConnection,
    query: Select[Any],
    *,
    event_types: list[str] | None,
    channel: str | None,
    before_id: str | None,
    after_id: str | None,
) -> Select[Any]:
    """Apply the list filters every message listing shares."""
    if event_types:
        query = query.where(t.c.event_type.in_(event_types))
    if channel:
        query = query.where(has_channel(conn, t.c.channels, channel))
    if before_id:
        query = query.where(t.c.id < before_id)
    if after_id:
        query = query.where(t.c.id >= after_id)
    return query


async def list_messages(
    conn: AsyncConnection,
    app_id: str,
    *,
    iterator: str | None,
    limit: int,
    event_types: list[str] | None,
    channel: str | None,
    before_id: str | None,
    after_id: str | None,
) -> Page[Message]:
    query = filtered(
        conn,
        select(t).where(t.c.app_id == app_id),
        event_types=event_types,
        channel=channel,
        before_id=before_id,
        after_id=after_id,
    )
    return await paginate(
        conn, query, t.c.id, message_from_row, iterator=iterator, limit=limit, descending=True
    )
