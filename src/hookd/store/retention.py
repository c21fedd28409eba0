"""Retention: expunge expired payloads and delete old records, one bounded batch at a time.

Every function handles at most ``limit`` rows, so each transaction is short and never holds many
locks; callers loop until a batch comes back smaller than ``limit``. Age is read from the ids
(time-sortable), so the primary keys serve as the time indexes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, exists, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.core.domain import DeliveryStatus
from hookd.store import message_versions
from hookd.store.schema import attempts, deliveries, inbound_requests, messages

message, delivery, request = messages.c, deliveries.c, inbound_requests.c
UNFINISHED = (int(DeliveryStatus.PENDING), int(DeliveryStatus.SENDING))


def _locked(conn: AsyncConnection, query: Select[Any]) -> Select[Any]:
    """On PostgreSQL, skip rows another pruner (or a delivery) holds instead of waiting."""
    if conn.dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def _expired_payloads(now_ms: int) -> Select[Any]:
    return select(message.id).where(
        message.payload.is_not(None), message.payload_expires_at <= now_ms
    )


def _old_messages(before_id: str) -> Select[Any]:
    """Messages created before ``before_id`` with no delivery still to make."""
    # Literal statuses, so the planner can use the partial index ix_deliveries_unfinished.
    unfinished = exists().where(
        delivery.msg_id == message.id, text(f"deliveries.status IN {UNFINISHED}")
    )
    return select(message.id).where(message.id < before_id, ~unfinished)


def _old_inbound_requests(before_id: str) -> Select[Any]:
    return select(request.id).where(request.id < before_id)


def _old_rejected_requests(before_id: str) -> Select[Any]:
    # A literal outcome, so the planner can use the partial index ix_inbound_requests_rejected.
    return select(request.id).where(
        request.id < before_id, text("inbound_requests.outcome = 'rejected'")
    )


async def expunge_payloads(conn: AsyncConnection, now_ms: int, limit: int) -> int:
    """Drop the payloads whose retention period is over, with their other payload versions
    (the messages stay)."""
    batch = list(
        (await conn.execute(_locked(conn, _expired_payloads(now_ms).limit(limit)))).scalars()
    )
    if batch:
        await conn.execute(update(messages).where(message.id.in_(batch)).values(payload=None))
        await message_versions.delete_versions_of(conn, batch)
    return len(batch)


async def delete_messages(conn: AsyncConnection, before_id: str, limit: int) -> tuple[int, int]:
    """Delete old messages; their deliveries and attempts go with them (ON DELETE CASCADE).

    Returns how many messages and attempts went.
    """
    query = _locked(conn, _old_messages(before_id).order_by(message.id).limit(limit))
    batch = list((await conn.execute(query)).scalars())
    if not batch:
        return 0, 0
    owned = await _count(conn, select(attempts.c.id).where(attempts.c.msg_id.in_(batch)))
    await conn.execute(delete(messages).where(message.id.in_(batch)))
    return len(batch), owned


async def delete_inbound_requests(conn: AsyncConnection, before_id: str, limit: int) -> int:
    batch = _locked(conn, _old_inbound_requests(before_id).order_by(request.id).limit(limit))
    result = await conn.execute(
        delete(inbound_requests).where(request.id.in_(batch.scalar_subquery()))
    )
    return int(result.rowcount)


async def delete_rejected_requests(conn: AsyncConnection, before_id: str, limit: int) -> int:
    """Rejected inbound requests received before ``before_id`` (HOOKD_REJECTED_RETENTION_DAYS)."""
    batch = _locked(conn, _old_rejected_requests(before_id).order_by(request.id).limit(limit))
    result = await conn.execute(
        delete(inbound_requests).where(request.id.in_(batch.scalar_subquery()))
    )
    return int(result.rowcount)


async def count_old_rejected_requests(conn: AsyncConnection, before_id: str) -> int:
    return await _count(conn, _old_rejected_requests(before_id))


async def count_expired_payloads(conn: AsyncConnection, now_ms: int) -> int:
    return await _count(conn, _expired_payloads(now_ms))


async def count_old_messages(conn: AsyncConnection, before_id: str) -> tuple[int, int]:
    """How many messages, and attempts of theirs, ``delete_messages`` would remove."""
    old = _old_messages(before_id)
    owned = select(attempts.c.id).where(attempts.c.msg_id.in_(old.scalar_subquery()))
    return await _count(conn, old), await _count(conn, owned)


async def count_old_inbound_requests(conn: AsyncConnection, before_id: str) -> int:
    return await _count(conn, _old_inbound_requests(before_id))


async def _count(conn: AsyncConnection, query: Select[Any]) -> int:
    total = await conn.execute(select(func.count()).select_from(query.subquery()))
    return int(total.scalar_one())
