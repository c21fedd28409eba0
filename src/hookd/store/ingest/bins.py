"""Request bins in the store: sources of type ``bin`` and the requests they captured.

A bin is a row of ``sources`` (provider ``bin``) and its captures are rows of
``inbound_requests``; this module holds only the queries bins need beyond a source's: the
bins alone, a capture written with the bin's caps applied, and the requests past a bin's TTL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.core.domain import InboundRecord, Page, Source
from hookd.core.providers.request_bin import BIN
from hookd.store.ingest.inbound_requests import insert_records, record_from_row, record_values
from hookd.store.ingest.sources import source_from_row
from hookd.store.pages import paginate
from hookd.store.schema import inbound_requests, sources

request = inbound_requests.c


def insert_capture(conn: Connection, record: InboundRecord, keep: int, since_id: str) -> int:
    """Store a bin's capture and forget its requests beyond the newest ``keep`` and those older
    than ``since_id`` (its TTL), in the caller's transaction; return how many were forgotten."""
    insert_records(conn, [record_values(record)])
    source_id = record.source_id
    # The (keep + 1)-th newest: it and everything older goes (index source_id, id).
    beyond = conn.execute(
        select(request.id)
        .where(request.source_id == source_id)
        .order_by(request.id.desc())
        .offset(keep)
        .limit(1)
    ).scalar()
    old = request.id < since_id
    condition = old if beyond is None else or_(old, request.id <= beyond)
    result = conn.execute(delete(inbound_requests).where(request.source_id == source_id, condition))
    return int(result.rowcount)


async def list_bins(
    conn: AsyncConnection, *, iterator: str | None, limit: int, descending: bool
) -> Page[Source]:
    return await paginate(
        conn,
        select(sources).where(sources.c.provider == BIN),
        sources.c.id,
        source_from_row,
        iterator=iterator,
        limit=limit,
        descending=descending,
    )


async def all_bins(conn: AsyncConnection) -> list[Source]:
    """Every bin (the pruner reads their TTLs; there are few)."""
    rows = (await conn.execute(select(sources).where(sources.c.provider == BIN))).all()
    return [source_from_row(row) for row in rows]


async def list_captures(
    conn: AsyncConnection, source_id: str, *, iterator: str | None, limit: int, since_id: str
) -> Page[InboundRecord]:
    """A bin's requests from ``since_id`` on (its TTL), newest first."""
    query = select(inbound_requests).where(request.source_id == source_id, request.id >= since_id)
    return await paginate(
        conn, query, request.id, record_from_row, iterator=iterator, limit=limit, descending=True
    )


def _expired(source_id: str, before_id: str) -> Any:
    return select(request.id).where(request.source_id == source_id, request.id < before_id)


async def delete_expired(conn: AsyncConnection, source_id: str, before_id: str, limit: int) -> int:
    """At most ``limit`` of a bin's requests older than ``before_id`` (its TTL)."""
    batch = _expired(source_id, before_id).order_by(request.id).limit(limit)
    result = await conn.execute(
        delete(inbound_requests).where(request.id.in_(batch.scalar_subquery()))
    )
    return int(result.rowcount)


async def count_expired(
    conn: AsyncConnection, source_id: str, before_id: str, from_id: str | None = None
) -> int:
    """How many of a bin's requests are older than ``before_id`` (and from ``from_id`` on)."""
    expired = _expired(source_id, before_id)
    if from_id is not None:
        expired = expired.where(request.id >= from_id)
    query = select(func.count()).select_from(expired.subquery())
    return int((await conn.execute(query)).scalar_one())
