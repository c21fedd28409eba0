"""Attempt records: every try to deliver a message, with what the receiver answered."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.core.domain import Attempt, DeliveryStatus, Page, TriggerType
from hookd.store.codec import from_ms, to_ms
from hookd.store.pages import paginate
from hookd.store.schema import attempts


def attempt_row(a: Attempt) -> dict[str, Any]:
    return {
        "id": a.id,
        "msg_id": a.msg_id,
        "endpoint_id": a.endpoint_id,
        "app_id": a.app_id,
        "url": a.url,
        "status": int(a.status),
        "response_status_code": a.response_status_code,
        "response": a.response,
        "response_duration_ms": a.response_duration_ms,
        "trigger_type": int(a.trigger_type),
        "attempt_number": a.attempt_number,
        "created_at": to_ms(a.created_at),
    }


async def insert_attempt(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(insert(attempts).values(row))


def _attempt(row: Row[Any]) -> Attempt:
    m = row._mapping
    return Attempt(
        id=m["id"],
        msg_id=m["msg_id"],
        endpoint_id=m["endpoint_id"],
        app_id=m["app_id"],
        url=m["url"],
        status=DeliveryStatus(m["status"]),
        response_status_code=m["response_status_code"],
        response=m["response"],
        response_duration_ms=m["response_duration_ms"],
        trigger_type=TriggerType(m["trigger_type"]),
        attempt_number=m["attempt_number"],
        created_at=from_ms(m["created_at"]),
    )


async def get_attempt(
    conn: AsyncConnection, app_id: str, msg_id: str, attempt_id: str
) -> Attempt | None:
    query = select(attempts).where(
        attempts.c.app_id == app_id, attempts.c.msg_id == msg_id, attempts.c.id == attempt_id
    )
    row = (await conn.execute(query)).first()
    return _attempt(row) if row else None


# What an expunged attempt's response reads (Svix writes the same).
EXPUNGED = "EXPUNGED"


async def expunge_response(conn: AsyncConnection, attempt_id: str) -> None:
    """Replace an attempt's stored response body with ``EXPUNGED``."""
    await conn.execute(
        update(attempts).where(attempts.c.id == attempt_id).values(response=EXPUNGED)
    )


async def list_attempts(
    conn: AsyncConnection,
    app_id: str,
    *,
    iterator: str | None,
    limit: int,
    msg_id: str | None = None,
    endpoint_id: str | None = None,
    status: DeliveryStatus | None = None,
    before_id: str | None = None,
    after_id: str | None = None,
) -> Page[Attempt]:
    query = select(attempts).where(attempts.c.app_id == app_id)
    if msg_id is not None:
        query = query.where(attempts.c.msg_id == msg_id)
    if endpoint_id is not None:
        query = query.where(attempts.c.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(attempts.c.status == int(status))
    if before_id:
        query = query.where(attempts.c.id < before_id)
    if after_id:
        query = query.where(attempts.c.id >= after_id)
    return await paginate(
        conn, query, attempts.c.id, _attempt, iterator=iterator, limit=limit, descending=True
    )
