"""Attempt history and resending: what happened to a message at each endpoint."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from hookd import ids
from hookd.core.domain import (
    Attempt,
    DeliveryStatus,
    Endpoint,
    ListQuery,
    Message,
    MessageDelivery,
    Page,
)
from hookd.services.applications import require_app
from hookd.services.context import Context
from hookd.services.endpoints.crud import require_endpoint
from hookd.services.errors import Conflict, NotFound
from hookd.store import attempts as store
from hookd.store import deliveries, message_deliveries
from hookd.store import messages as message_store
from hookd.store.codec import to_ms


async def list_by_endpoint(
    ctx: Context, app_id: str, endpoint_id: str, query: ListQuery
) -> Page[Attempt]:
    """An endpoint's attempts, newest first whatever ``query.order`` says."""
    async with ctx.db.read() as conn:
        app = await require_app(conn, app_id)
        endpoint = await require_endpoint(conn, app.id, endpoint_id)
        return await store.list_attempts(
            conn,
            app.id,
            iterator=query.iterator,
            limit=query.limit,
            endpoint_id=endpoint.id,
            status=query.status,
            before_id=ids.floor_id(ids.ATTEMPT, query.before),
            after_id=ids.floor_id(ids.ATTEMPT, query.after),
        )


async def list_by_message(
    ctx: Context, app_id: str, msg_id: str, query: ListQuery, *, endpoint_id: str | None
) -> Page[Attempt]:
    """A message's attempts (to one endpoint, or all), newest first whatever ``query.order``
    says."""
    async with ctx.db.read() as conn:
        app = await require_app(conn, app_id)
        message = await _require_message(conn, app.id, msg_id)
        endpoint = await require_endpoint(conn, app.id, endpoint_id) if endpoint_id else None
        return await store.list_attempts(
            conn,
            app.id,
            iterator=query.iterator,
            limit=query.limit,
            msg_id=message.id,
            endpoint_id=endpoint.id if endpoint else None,
            status=query.status,
            before_id=ids.floor_id(ids.ATTEMPT, query.before),
            after_id=ids.floor_id(ids.ATTEMPT, query.after),
        )


async def _require_message(conn: AsyncConnection, app_id: str, msg_id: str) -> Message:
    message = await message_store.get_message(conn, app_id, msg_id)
    if message is None:
        raise NotFound(f"message {msg_id!r} not found")
    return message


async def _require_attempt(
    conn: AsyncConnection, app_id: str, msg_id: str, attempt_id: str
) -> Attempt:
    app = await require_app(conn, app_id)
    message = await _require_message(conn, app.id, msg_id)
    attempt = await store.get_attempt(conn, app.id, message.id, attempt_id)
    if attempt is None:
        raise NotFound(f"attempt {attempt_id!r} not found")
    return attempt


async def get_attempt(ctx: Context, app_id: str, msg_id: str, attempt_id: str) -> Attempt:
    async with ctx.db.read() as conn:
        return await _require_attempt(conn, app_id, msg_id, attempt_id)


async def expunge_attempt_content(ctx: Context, app_id: str, msg_id: str, attempt_id: str) -> None:
    """Delete what the endpoint answered to an attempt (its response body)."""
    async with ctx.db.write() as conn:
        attempt = await _require_attempt(conn, app_id, msg_id, attempt_id)
        await store.expunge_response(conn, attempt.id)


async def message_destinations(
    ctx: Context, app_id: str, msg_id: str, query: ListQuery
) -> Page[tuple[Endpoint, MessageDelivery]]:
    async with ctx.db.read() as conn:
        app = await require_app(conn, app_id)
        message = await _require_message(conn, app.id, msg_id)
        return await message_deliveries.message_destinations(
            conn, message.id, iterator=query.iterator, limit=query.limit
        )


async def endpoint_messages(
    ctx: Context, app_id: str, endpoint_id: str, query: ListQuery
) -> Page[tuple[Message, MessageDelivery]]:
    async with ctx.db.read() as conn:
        app = await require_app(conn, app_id)
        endpoint = await require_endpoint(conn, app.id, endpoint_id)
        return await message_deliveries.endpoint_messages(
            conn,
            endpoint.id,
            iterator=query.iterator,
            limit=query.limit,
            status=query.status,
            before_id=ids.floor_id(ids.MESSAGE, query.before),
            after_id=ids.floor_id(ids.MESSAGE, query.after),
        )


async def resend(ctx: Context, app_id: str, msg_id: str, endpoint_id: str) -> None:
    """Send a message to an endpoint again, now, with a fresh retry budget.

    Works for any endpoint of the application, also one the message was never routed to.
    """
    now = ctx.clock()
    now_ms = to_ms(now)
    async with ctx.db.write() as conn:
        app = await require_app(conn, app_id)
        message = await _require_message(conn, app.id, msg_id)
        endpoint = await require_endpoint(conn, app.id, endpoint_id)
        if message.payload is None:
            raise Conflict(
                "the message's payload was expunged; it cannot be resent", code="expunged"
            )
        existing = await deliveries.get_delivery(conn, message.id, endpoint.id)
        if existing is None:
            rows = deliveries.new_delivery_rows(
                [ids.new_id(ids.DELIVERY, now)], message.id, app.id, [endpoint.id], now_ms
            )
            rows[0]["manual"] = True
            await deliveries.insert_deliveries(conn, rows)
        elif existing._mapping["status"] == DeliveryStatus.SENDING:
            raise Conflict(
                "an attempt to this endpoint is in flight; try again shortly", code="in_flight"
            )
        else:
            await deliveries.rearm(conn, endpoint_id=endpoint.id, msg_id=message.id, now_ms=now_ms)
    ctx.wake_worker()
