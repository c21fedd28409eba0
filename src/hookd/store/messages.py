"""Messages: the log of everything accepted, with the exact payload bytes."""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    cast,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Row
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.core.domain import Message, Page
from hookd.store import message_versions
from hookd.store.arrays import in_list
from hookd.store.codec import from_ms, opt_tuple, to_ms
from hookd.store.pages import paginate
from hookd.store.schema import messages


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
        version=m["version"],
        deliver_at=None if m["deliver_at"] is None else from_ms(m["deliver_at"]),
        traceparent=m["traceparent"],
        tracestate=m["tracestate"],
        request_id=m["request_id"],
    )


DEFAULT_PAYLOAD_RETENTION_DAYS = 90
DEFAULT_PAYLOAD_RETENTION_HOURS = DEFAULT_PAYLOAD_RETENTION_DAYS * 24
HOUR_MS = 3600 * 1000
DAY_MS = 24 * HOUR_MS


def message_values(
    msg: Message, payload_retention_hours: int = DEFAULT_PAYLOAD_RETENTION_HOURS
) -> dict[str, Any]:
    """The ``messages`` row of ``msg``; its payload is expunged after the retention period."""
    created_ms = to_ms(msg.created_at)
    return {
        "id": msg.id,
        "app_id": msg.app_id,
        "event_type": msg.event_type,
        "event_id": msg.event_id,
        "channels": None if msg.channels is None else list(msg.channels),
        "tags": None if msg.tags is None else list(msg.tags),
        "payload": msg.payload,
        "created_at": created_ms,
        "content_type": msg.content_type,
        "headers": msg.headers,
        "version": msg.version,
        "other_versions": sorted(msg.payload_versions) if msg.payload_versions else None,
        # The payload is expunged then (payloadRetentionPeriod or payloadRetentionHours); the
        # record and attempts stay.
        "payload_expires_at": created_ms + payload_retention_hours * HOUR_MS,
        "deliver_at": None if msg.deliver_at is None else to_ms(msg.deliver_at),
        "traceparent": msg.traceparent,
        "tracestate": msg.tracestate,
        "request_id": msg.request_id,
    }


def version_rows(msg: Message) -> list[dict[str, Any]]:
    """The ``message_versions`` rows of ``msg``'s other payload versions."""
    return message_versions.version_rows(msg.id, msg.payload_versions or {})


async def insert_message(
    conn: AsyncConnection,
    msg: Message,
    *,
    payload_retention_hours: int = DEFAULT_PAYLOAD_RETENTION_HOURS,
) -> None:
    """Insert ``msg``; its payload is expunged ``payload_retention_hours`` after creation."""
    await conn.execute(insert(messages).values(message_values(msg, payload_retention_hours)))
    await message_versions.insert_versions(conn, msg.id, msg.payload_versions or {})


async def get_message(conn: AsyncConnection, app_id: str, id_or_event_id: str) -> Message | None:
    """By id, or by the producer's ``eventId``."""
    for column in (messages.c.id, messages.c.event_id):
        row = (
            await conn.execute(
                select(messages).where(messages.c.app_id == app_id, column == id_or_event_id)
            )
        ).first()
        if row:
            return message_from_row(row)
    return None


async def messages_by_id(conn: AsyncConnection, ids: list[str]) -> dict[str, Message]:
    return await conn.run_sync(lambda sync: read_messages(sync, ids))


def read_messages(conn: Connection, ids: list[str]) -> dict[str, Message]:
    """These messages (those that exist), with their other payload versions; synchronous (the
    worker reads a claim round's messages in its transaction)."""
    if not ids:
        return {}
    rows = conn.execute(_read_messages(conn.dialect.name), {"ids": ids}).all()
    found = {row._mapping["id"]: message_from_row(row) for row in rows}
    versioned = [r._mapping["id"] for r in rows if r.other_versions]
    for msg_id, versions in message_versions.versions_of(conn, versioned).items():
        found[msg_id] = dataclasses.replace(found[msg_id], payload_versions=versions)
    return found


@lru_cache(maxsize=4)
def _read_messages(dialect: str) -> Any:
    # Built once per dialect: every claim round runs it (one statement text on PostgreSQL).
    return select(messages).where(in_list(messages.c.id, "ids", dialect))


async def find_refs(conn: AsyncConnection, app_id: str, refs: list[str]) -> dict[str, str]:
    """The message id each of ``refs`` (ids or eventIds) names in this application."""
    if not refs:
        return {}
    query = select(messages.c.id, messages.c.event_id).where(
        messages.c.app_id == app_id, or_(messages.c.id.in_(refs), messages.c.event_id.in_(refs))
    )
    found: dict[str, str] = {}
    for msg_id, event_id in (await conn.execute(query)).all():
        found[msg_id] = msg_id
        if event_id is not None:
            found.setdefault(event_id, msg_id)
    return found


async def expunge_payloads(conn: AsyncConnection, msg_ids: list[str]) -> None:
    """Delete these messages' payloads and other payload versions (the records stay)."""
    if msg_ids:
        await conn.execute(update(messages).where(messages.c.id.in_(msg_ids)).values(payload=None))
        await message_versions.delete_versions_of(conn, msg_ids)


async def expunge_app_batch(
    conn: AsyncConnection, app_id: str, after_id: str, before_id: str, limit: int
) -> tuple[int, str | None]:
    """Expunge the payloads of the next ``limit`` messages of an application with ids in
    (``after_id``, ``before_id``); return how many had one, and the last id looked at (None:
    there were no more)."""
    query = (
        select(messages.c.id, messages.c.payload.is_not(None).label("held"))
        .where(messages.c.app_id == app_id, messages.c.id > after_id, messages.c.id < before_id)
        .order_by(messages.c.id)
        .limit(limit)
    )
    rows = (await conn.execute(query)).all()
    held = [row.id for row in rows if row.held]
    await expunge_payloads(conn, held)
    return len(held), rows[-1].id if len(rows) == limit else None


def has_channel(
    conn: AsyncConnection, column: ColumnElement[Any], channel: str
) -> ColumnElement[bool]:
    """SQL for "this JSON array column contains ``channel``" (or a tag), per dialect."""
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
        query = query.where(messages.c.event_type.in_(event_types))
    if channel:
        query = query.where(has_channel(conn, messages.c.channels, channel))
    if before_id:
        query = query.where(messages.c.id < before_id)
    if after_id:
        query = query.where(messages.c.id >= after_id)
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
    tag: str | None = None,
    descending: bool = True,
) -> Page[Message]:
    query = filtered(
        conn,
        select(messages).where(messages.c.app_id == app_id),
        event_types=event_types,
        channel=channel,
        before_id=before_id,
        after_id=after_id,
    )
    if tag:
        query = query.where(has_channel(conn, messages.c.tags, tag))
    return await paginate(
        conn,
        query,
        messages.c.id,
        message_from_row,
        iterator=iterator,
        limit=limit,
        descending=descending,
    )
