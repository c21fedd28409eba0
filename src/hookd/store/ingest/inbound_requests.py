"""Inbound request records: every request a known source received, with its outcome."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, exists, func, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.core.domain import ACCEPTED, DeliveryStatus, InboundRecord, Page
from hookd.store.codec import from_ms, to_ms
from hookd.store.pages import paginate
from hookd.store.row_inserts import insert_many
from hookd.store.schema import deliveries, inbound_requests
from hookd.store.sqlite.statements import select_rows


def record_from_row(row: Row[Any]) -> InboundRecord:
    m = row._mapping
    return InboundRecord(
        id=m["id"],
        source_id=m["source_id"],
        received_at=from_ms(m["received_at"]),
        method=m["method"],
        url=m["url"],
        path=m["path"],
        query=m["query"],
        headers=tuple((str(name), str(value)) for name, value in m["headers"]),
        body=m["body"],
        remote_ip=m["remote_ip"],
        outcome=m["outcome"],
        code=m["code"],
        reason=m["reason"],
        response_status=m["response_status"],
        dedup_key=m["dedup_key"],
        event_type=m["event_type"],
        msg_id=m["msg_id"],
        body_size=m["body_size"],
        request_count=m["request_count"],
        last_received_at=None if m["last_received_at"] is None else from_ms(m["last_received_at"]),
    )


def record_values(record: InboundRecord) -> dict[str, Any]:
    """The ``inbound_requests`` row of ``record``."""
    return {
        "id": record.id,
        "source_id": record.source_id,
        "received_at": to_ms(record.received_at),
        "method": record.method,
        "url": record.url,
        "path": record.path,
        "query": record.query,
        "headers": record.headers,  # pairs: JSON arrays of two strings, as lists would be
        "body": record.body,
        "remote_ip": record.remote_ip,
        "outcome": record.outcome,
        "code": record.code,
        "reason": record.reason,
        "response_status": record.response_status,
        "dedup_key": record.dedup_key,
        "event_type": record.event_type,
        "msg_id": record.msg_id,
        "body_size": record.body_size,  # request_count and last_received_at: their defaults
    }


def insert_records(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Rows of ``record_values`` in one statement (executemany), on a synchronous connection."""
    insert_many(conn, inbound_requests, rows)


_REPEATED = (
    update(inbound_requests)
    .where(inbound_requests.c.id == bindparam("record_id"))
    .values(request_count=inbound_requests.c.request_count + 1, last_received_at=bindparam("at"))
)


def count_repeats(conn: Connection, repeats: list[tuple[str, datetime]]) -> None:
    """One more request on each ``(record id, received at)``'s record (coalesced rejections)."""
    if repeats:
        conn.execute(_REPEATED, [{"record_id": rid, "at": to_ms(at)} for rid, at in repeats])


# Built once: a new statement per group would cost its construction and cache key each time.
_LAST_ACCEPTED = (
    select(
        inbound_requests.c.source_id,
        inbound_requests.c.dedup_key,
        func.max(inbound_requests.c.received_at),
    )
    .where(
        inbound_requests.c.source_id.in_(bindparam("sources", expanding=True)),
        inbound_requests.c.dedup_key.in_(bindparam("keys", expanding=True)),
        inbound_requests.c.received_at >= bindparam("since"),
        inbound_requests.c.outcome == bindparam("outcome", ACCEPTED),
    )
    .group_by(inbound_requests.c.source_id, inbound_requests.c.dedup_key)
)


def last_accepted(
    conn: Connection, keys: Iterable[tuple[str, str]], since: datetime
) -> dict[tuple[str, str], datetime]:
    """``(source id, dedup key)`` -> the latest time it was accepted at or after ``since``.

    One statement for a whole group of requests: the sources and keys are matched separately
    (the index is on ``source_id, dedup_key, received_at``), so a pair nobody asked for may come
    back too; it is still true, and callers only look up their own pairs.
    """
    wanted = set(keys)
    if not wanted:
        return {}
    params = {
        "sources": sorted({source for source, _ in wanted}),
        "keys": sorted({key for _, key in wanted}),
        "since": to_ms(since),
    }
    rows = select_rows(conn, _LAST_ACCEPTED, params)
    return {(source, key): from_ms(at) for source, key, at in rows}


async def get_record(
    conn: AsyncConnection, source_id: str, request_id: str
) -> InboundRecord | None:
    query = select(inbound_requests).where(
        inbound_requests.c.source_id == source_id, inbound_requests.c.id == request_id
    )
    row = (await conn.execute(query)).first()
    return record_from_row(row) if row else None


async def record_of_message(conn: AsyncConnection, msg_id: str) -> InboundRecord | None:
    """The request that became message ``msg_id`` (``ix_inbound_requests_msg``), if any."""
    query = select(inbound_requests).where(inbound_requests.c.msg_id == msg_id).limit(1)
    row = (await conn.execute(query)).first()
    return record_from_row(row) if row else None


async def set_message(conn: AsyncConnection, request_id: str, msg_id: str) -> None:
    await conn.execute(
        update(inbound_requests).where(inbound_requests.c.id == request_id).values(msg_id=msg_id)
    )


def _filtered(
    source_id: str,
    outcomes: list[str] | None,
    status: DeliveryStatus | None,
    after_id: str | None,
    before_id: str | None,
) -> Any:
    query = select(inbound_requests).where(inbound_requests.c.source_id == source_id)
    if outcomes:
        query = query.where(inbound_requests.c.outcome.in_(outcomes))
    if after_id:
        query = query.where(inbound_requests.c.id >= after_id)
    if before_id:
        query = query.where(inbound_requests.c.id < before_id)
    if status is not None:
        delivery = deliveries.c
        query = query.where(
            exists().where(
                delivery.msg_id == inbound_requests.c.msg_id, delivery.status == int(status)
            )
        )
    return query


async def list_records(
    conn: AsyncConnection,
    source_id: str,
    *,
    iterator: str | None,
    limit: int,
    outcomes: list[str] | None,
    after_id: str | None,
    before_id: str | None,
) -> Page[InboundRecord]:
    """Newest first."""
    query = _filtered(source_id, outcomes, None, after_id, before_id)
    return await paginate(
        conn,
        query,
        inbound_requests.c.id,
        record_from_row,
        iterator=iterator,
        limit=limit,
        descending=True,
    )


async def select_records(
    conn: AsyncConnection,
    source_id: str,
    *,
    outcomes: list[str],
    status: DeliveryStatus | None,
    after_id: str,
    before_id: str | None,
    limit: int,
) -> list[InboundRecord]:
    """Oldest first, for bulk replay."""
    query = _filtered(source_id, outcomes, status, after_id, before_id)
    rows = (await conn.execute(query.order_by(inbound_requests.c.id).limit(limit))).all()
    return [record_from_row(row) for row in rows]


async def ids_since(conn: AsyncConnection, source_id: str, since_id: str) -> list[str]:
    """The ids of a source's requests from ``since_id`` on, oldest first (index only)."""
    query = (
        select(inbound_requests.c.id)
        .where(inbound_requests.c.source_id == source_id, inbound_requests.c.id >= since_id)
        .order_by(inbound_requests.c.id)
    )
    return [str(value) for value in (await conn.execute(query)).scalars()]


async def records_by_id(
    conn: AsyncConnection, source_id: str, wanted: Sequence[str]
) -> list[InboundRecord]:
    """Those of ``wanted`` that are the source's requests, oldest first."""
    if not wanted:
        return []
    query = (
        select(inbound_requests)
        .where(inbound_requests.c.source_id == source_id, inbound_requests.c.id.in_(list(wanted)))
        .order_by(inbound_requests.c.id)
    )
    return [record_from_row(row) for row in (await conn.execute(query)).all()]
