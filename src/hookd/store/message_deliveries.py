"""Where messages went: deliveries joined with their endpoints or their messages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.core.domain import DeliveryStatus, Endpoint, Message, MessageDelivery, Page
from hookd.store.codec import from_ms, opt_from_ms
from hookd.store.endpoints import endpoint_from_row
from hookd.store.messages import filtered, has_channel, message_from_row
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
    event_types: list[str] | None = None,
    channel: str | None = None,
    tag: str | None = None,
) -> Page[tuple[Message, MessageDelivery]]:
    """The messages routed to an endpoint, newest first, with their delivery status; also
    filtered as the message list is (event types, channel, tag).

    Every page walks ``ix_deliveries_endpoint`` (endpoint, status, message id) in message id
    order, whatever the number of deliveries: with a status, one range of it; without, one
    range per status, merged (ordering the join by the message's id instead, or over all
    statuses at once, sorts every delivery the endpoint has)."""
    if status is None:
        return _merged(
            [
                await endpoint_messages(
                    conn,
                    endpoint_id,
                    iterator=iterator,
                    limit=limit,
                    status=each,
                    before_id=before_id,
                    after_id=after_id,
                    event_types=event_types,
                    channel=channel,
                    tag=tag,
                )
                for each in DeliveryStatus
            ],
            iterator,
            limit,
        )
    query = filtered(
        conn,
        select(messages, *DELIVERY_COLUMNS)
        .join(deliveries, delivery.msg_id == messages.c.id)
        .where(delivery.endpoint_id == endpoint_id, delivery.status == int(status)),
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
        DELIVERY_COLUMNS[0],
        lambda row: (message_from_row(row), _delivery(row)),
        iterator=iterator,
        limit=limit,
        descending=True,
    )


def _merged(
    pages: list[Page[tuple[Message, MessageDelivery]]], iterator: str | None, limit: int
) -> Page[tuple[Message, MessageDelivery]]:
    """One newest-first page out of the same page of several disjoint lists."""
    found = sorted(
        (item for page in pages for item in page.items), key=lambda i: i[0].id, reverse=True
    )
    backwards = bool(iterator and iterator.startswith("-"))
    more = len(found) > limit or any(not page.done for page in pages)
    # Backwards, the page is the ``limit`` messages just above the cursor: the oldest found.
    items = found[-limit:] if backwards else found[:limit]
    if not items:
        return Page(items, iterator, iterator, True)
    return Page(items, items[-1][0].id, f"-{items[0][0].id}", False if backwards else not more)


async def deliveries_of(
    conn: AsyncConnection, msg_ids: list[str]
) -> dict[str, list[MessageDelivery]]:
    """The deliveries of these messages (a log page's statuses: one query on the
    ``(msg_id, endpoint_id)`` unique index), by message id."""
    found: dict[str, list[MessageDelivery]] = {msg_id: [] for msg_id in msg_ids}
    if not msg_ids:
        return found
    query: Select[Any] = (
        select(*DELIVERY_COLUMNS).where(delivery.msg_id.in_(msg_ids)).order_by(delivery.endpoint_id)
    )
    rows = (await conn.execute(query)).all()
    for row in rows:
        found[row._mapping["d_msg_id"]].append(_delivery(row))
    return found


async def ids_with_status(
    conn: AsyncConnection,
    endpoint_id: str,
    status: DeliveryStatus,
    *,
    above_id: str,
    limit: int,
    before_id: str | None,
    after_id: str | None,
    event_types: list[str] | None = None,
    channel: str | None = None,
    tag: str | None = None,
) -> list[str]:
    """The ids of the messages whose delivery to an endpoint has ``status``, oldest first from
    just above ``above_id`` (a keyset scan of ``ix_deliveries_endpoint``), filtered as the
    message list is."""
    query = filtered(
        conn,
        select(delivery.msg_id)
        .join(messages, messages.c.id == delivery.msg_id)
        .where(
            delivery.endpoint_id == endpoint_id,
            delivery.status == int(status),
            delivery.msg_id > above_id,
        ),
        event_types=event_types,
        channel=channel,
        before_id=before_id,
        after_id=after_id,
    )
    if tag:
        query = query.where(has_channel(conn, messages.c.tags, tag))
    rows = await conn.execute(query.order_by(delivery.msg_id).limit(limit))
    return [row[0] for row in rows]
