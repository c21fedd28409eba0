"""Where messages went: deliveries joined with their endpoints or their messages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.core.domain import DeliveryStatus, Endpoint, Message, MessageDelivery, Page
from hookd.store.codec import from_ms, opt_from_ms
from hookd.store.endpoints import endpoint_from_row
from hookd.store.messages import message_from_row
from hookd.store.pages import paginate
from hookd.store.schema import deliveries, endpoints, messages

delivery = deliveries.c
DELIVERY_COLUMNS = (
    delivery.msg_id.label("d_msg_id"),
    delivery.endpoint_id.label("d_endpoint_id"),
    delivery.status.label("d_status"),
    delivery.attempts.label("d_attempts"),
    delivery.next_attempt_at.label("d_next_attempt_at"),
    delivery.updated_at.label("d_updated_at"),
)


def _delivery(row: Row[Any]) -> MessageDelivery:
    m = row._mapping
    return MessageDelivery(
        msg_id=m["d_msg_id"],
        endpoint_id=m["d_endpoint_id"],
        status=DeliveryStatus(m["d_status"]),
        attempts=m["d_attempts"],
        next_attempt_at=opt_from_ms(m["d_next_attempt_at"]),
        updated_at=from_ms(m["d_updated_at"]),
    )


async def message_destinations(
    conn: AsyncConnection, msg_id: str, *, iterator: str | None, limit: int
) -> Page[tuple[Endpoint, MessageDelivery]]:
    """The endpoints a message was routed to, with its status at each."""
    query = (
        select(endpoints, *DELIVERY_COLUMNS)
        .join(deliveries, delivery.endpoint_id == endpoints.c.id)
        .where(delivery.msg_id == msg_id)
    )
    return await paginate(
        conn,
        query,
        endpoints.c.id,
        lambda row: (endpoint_from_row(row), _delivery(row)),
        iterator=iterator,
        limit=limit,
        descending=False,
    )


async def endpoint_messages(
    conn: AsyncConnection,
    endpoint_id: str,
    *,
    iterator: str | None,
    limit: int,
    status: DeliveryStatus | None,
    before_id: str | None,
    after_id: str | None,
) -> Page[tuple[Message, MessageDelivery]]:
    """The messages routed to an endpoint, newest first, with their delivery status."""
    query = (
        select(messages, *DELIVERY_COLUMNS)
        .join(deliveries, delivery.msg_id == messages.c.id)
        .where(delivery.endpoint_id == endpoint_id)
    )
    if status is not None:
        query = query.where(delivery.status == int(status))
    if before_id:
        query = query.where(messages.c.id < before_id)
    if after_id:
        query = query.where(messages.c.id >= after_id)
    return await paginate(
        conn,
        query,
        messages.c.id,
        lambda row: (message_from_row(row), _delivery(row)),
        iterator=iterator,
        limit=limit,
        descending=True,
    )
