"""Inbound sources: a provider's configuration and the ingest URL token, one per application."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.core.domain import Page, Source, StaticResponse
from hookd.store.codec import from_ms, to_ms
from hookd.store.pages import paginate
from hookd.store.schema import sources
from hookd.store.sealing import open_json, seal_json

CONFIG = "sources.config"  # sealed (store.sealing): the provider's secrets


def source_from_row(row: Row[Any]) -> Source:
    m = row._mapping
    status = m["response_status"]
    response = (
        None
        if status is None
        else StaticResponse(status, m["response_content_type"], m["response_body"] or b"")
    )
    return Source(
        id=m["id"],
        uid=m["uid"],
        name=m["name"],
        type=m["type"],
        provider=m["provider"],
        config=dict(open_json(m["config"], CONFIG) or {}),
        token=m["token"],
        metadata=dict(m["meta"] or {}),
        response=response,
        dedup_window_seconds=m["dedup_window_seconds"],
        created_at=from_ms(m["created_at"]),
        updated_at=from_ms(m["updated_at"]),
    )


def _values(source: Source) -> dict[str, Any]:
    response = source.response
    return {
        "id": source.id,
        "uid": source.uid,
        "name": source.name,
        "type": source.type,
        "provider": source.provider,
        "config": seal_json(source.config, CONFIG),
        "token": source.token,
        "meta": source.metadata,
        "response_status": response.status if response else None,
        "response_content_type": response.content_type if response else None,
        "response_body": response.body if response else None,
        "dedup_window_seconds": source.dedup_window_seconds,
        "created_at": to_ms(source.created_at),
        "updated_at": to_ms(source.updated_at),
    }


async def insert_source(conn: AsyncConnection, source: Source) -> None:
    await conn.execute(insert(sources).values(_values(source)))


async def save_source(conn: AsyncConnection, source: Source) -> None:
    await conn.execute(update(sources).where(sources.c.id == source.id).values(_values(source)))


async def delete_source(conn: AsyncConnection, source_id: str) -> None:
    await conn.execute(delete(sources).where(sources.c.id == source_id))


async def get_source(conn: AsyncConnection, id_or_uid: str) -> Source | None:
    """By id, or by uid when no id matches (the management API)."""
    query = select(sources).where(or_(sources.c.id == id_or_uid, sources.c.uid == id_or_uid))
    rows = (await conn.execute(query)).all()
    by_id = [row for row in rows if row._mapping["id"] == id_or_uid]
    chosen = by_id or rows
    return source_from_row(chosen[0]) if chosen else None


async def find_for_ingest(conn: AsyncConnection, token: str) -> Source | None:
    """By the ingest URL's token (``/in/{token}``). Only the token: a uid is guessable and
    neither it nor the id changes when the token is rotated."""
    row = (await conn.execute(select(sources).where(sources.c.token == token))).first()
    return source_from_row(row) if row else None


async def list_sources(
    conn: AsyncConnection,
    *,
    iterator: str | None,
    limit: int,
    descending: bool,
    leave_out: tuple[str, ...] = (),
) -> Page[Source]:
    """A page of sources; ``leave_out``: types not listed."""
    query = select(sources)
    if leave_out:
        query = query.where(sources.c.type.not_in(leave_out))
    return await paginate(
        conn,
        query,
        sources.c.id,
        source_from_row,
        iterator=iterator,
        limit=limit,
        descending=descending,
    )
