"""Event types: the catalogue of what messages can be, with JSON Schemas per version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.core.domain import EventType, Page
from hookd.store.codec import from_ms, to_ms
from hookd.store.pages import paginate
from hookd.store.schema import event_types


def _event_type(row: Row[Any]) -> EventType:
    m = row._mapping
    return EventType(
        name=m["name"],
        description=m["description"],
        schemas=m["schemas"],
        archived=bool(m["archived"]),
        deprecated=bool(m["deprecated"]),
        feature_flags=tuple(m["feature_flags"] or ()),
        group_name=m["group_name"],
        created_at=from_ms(m["created_at"]),
        updated_at=from_ms(m["updated_at"]),
    )


def _values(et: EventType) -> dict[str, Any]:
    return {
        "name": et.name,
        "description": et.description,
        "schemas": et.schemas,
        "archived": et.archived,
        "deprecated": et.deprecated,
        "feature_flags": list(et.feature_flags),
        "group_name": et.group_name,
        "created_at": to_ms(et.created_at),
        "updated_at": to_ms(et.updated_at),
    }


async def insert_event_type(conn: AsyncConnection, et: EventType) -> None:
    await conn.execute(insert(event_types).values(_values(et)))


async def save_event_type(conn: AsyncConnection, et: EventType) -> None:
    await conn.execute(update(event_types).where(event_types.c.name == et.name).values(_values(et)))


async def get_event_type(conn: AsyncConnection, name: str) -> EventType | None:
    row = (await conn.execute(select(event_types).where(event_types.c.name == name))).first()
    return _event_type(row) if row else None


async def list_event_types(
    conn: AsyncConnection,
    *,
    iterator: str | None,
    limit: int,
    descending: bool,
    include_archived: bool,
) -> Page[EventType]:
    query = (
        select(event_types)
        if include_archived
        else select(event_types).where(event_types.c.archived.is_(False))
    )
    return await paginate(
        conn,
        query,
        event_types.c.name,
        _event_type,
        iterator=iterator,
        limit=limit,
        descending=descending,
    )
