"""Webhook alert channels: their endpoints are those of one hidden application.

A webhook channel is hookd's own delivery: its endpoint (URL and signing secret) belongs to a
hidden application (kind "alert", a fixed id, made with the first webhook channel), and a notice
becomes an ordinary message of that application (``alert.issue.opened`` ...) with a delivery to
each channel's endpoint, so the worker signs, retries and records it like any other.

A sibling of the operational webhooks' application (``services.operational``), not that one:
those endpoints are managed by the operational webhook API and receive every operational event
their ``filterTypes`` allow; a channel's endpoint must receive only the notices of the rules
that name that channel, and must not show up among the operational endpoints.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from datetime import datetime

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd import ids
from hookd.core.alerts.messages import NoticeFacts, webhook_event_type, webhook_payload
from hookd.core.domain import Application, Message
from hookd.services.context import Context
from hookd.services.messages.fanout import persist_with_deliveries
from hookd.store import applications as app_store

# One well-known id, as the operational application's: processes racing to create it collide
# on the primary key instead of creating two.
ALERT_APP_ID = "app_0000000000HookdAlertChannel"


async def ensure_app(ctx: Context) -> None:
    """Make sure the application of the webhook channels' endpoints exists."""
    async with ctx.db.read() as conn:
        if await app_store.get_app(conn, ALERT_APP_ID) is not None:
            return
    now = ctx.clock()
    app = Application(ALERT_APP_ID, None, "alert channels", None, {}, now, now)
    with contextlib.suppress(IntegrityError):
        async with ctx.db.write() as conn:
            await app_store.insert_app(conn, app, kind=app_store.ALERT)


async def ensure_app_in(conn: AsyncConnection, now: datetime) -> None:
    """:func:`ensure_app` inside a write transaction (the rare path: the application was
    deleted through the application API since the first webhook channel was made)."""
    if await app_store.get_app(conn, ALERT_APP_ID) is None:
        app = Application(ALERT_APP_ID, None, "alert channels", None, {}, now, now)
        await app_store.insert_app(conn, app, kind=app_store.ALERT)


async def enqueue_notice(
    conn: AsyncConnection, notice: NoticeFacts, endpoint_ids: Collection[str], ctx: Context
) -> tuple[Message, int]:
    """Write the notice as one message with a delivery to each enabled endpoint named; return
    it and how many deliveries were queued."""
    now = ctx.clock()
    message = Message(
        id=ids.new_id(ids.MESSAGE, now),
        app_id=ALERT_APP_ID,
        event_type=webhook_event_type(notice),
        event_id=None,
        channels=None,
        tags=None,
        payload=orjson.dumps(webhook_payload(notice, now)),
        created_at=now,
    )
    wanted = set(endpoint_ids)
    count = await persist_with_deliveries(
        conn,
        message,
        lambda endpoints: [e for e in endpoints if e.id in wanted and not e.disabled],
    )
    return message, count
