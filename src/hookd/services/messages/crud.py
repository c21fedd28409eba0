"""Message operations: accept (persist and fan out in one transaction), list, get, expunge."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from hookd import ids
from hookd.core.domain import ListQuery, Message, Page
from hookd.services.applications import require_app
from hookd.services.context import Context
from hookd.services.create_keys import KeyRequest
from hookd.services.errors import Invalid, NotFound, PayloadTooLarge
from hookd.services.messages import batch as message_batch
from hookd.services.messages.batch import Created, NewMessage
from hookd.services.messages.payload_shapes import accept_versions
from hookd.store import messages as store
from hookd.telemetry import REQUEST_ID
from hookd.tracing import Tracing

NAME = re.compile(r"^[a-zA-Z0-9\-_.]{1,256}$")
CHANNEL = re.compile(r"^[a-zA-Z0-9\-_.:#@]{1,128}$")
MAX_CHANNELS = 5
MAX_DELIVER_AHEAD = timedelta(days=30)
EXPUNGED = "expunged"
NOT_FOUND = "not-found"


def _check(event_type: str, channels: Sequence[str] | None, event_id: str | None) -> None:
    if not NAME.match(event_type):
        raise Invalid(
            "eventType uses 1-256 letters, digits, '-', '_' and '.'", loc=("body", "eventType")
        )
    if channels is not None:
        if not 1 <= len(channels) <= MAX_CHANNELS:
            raise Invalid(f"channels needs 1 to {MAX_CHANNELS} entries", loc=("body", "channels"))
        for channel in channels:
            if not CHANNEL.match(channel):
                raise Invalid(
                    f"channel {channel!r} is not a valid channel name", loc=("body", "channels")
                )
    if event_id is not None and not 1 <= len(event_id) <= 256:
        raise Invalid("eventId must be 1 to 256 characters", loc=("body", "eventId"))


async def create_message(
    ctx: Context,
    app_id: str,
    *,
    payload: bytes,
    event_type: str,
    event_id: str | None = None,
    channels: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
    application: Mapping[str, Any] | None = None,
    payload_versions: Mapping[int, bytes] | None = None,
    payload_version: int | None = None,
    validate: bool | None = None,
    payload_retention_days: int | None = None,
    payload_retention_hours: int | None = None,
    deliver_at: datetime | None = None,
    key: KeyRequest | None = None,
) -> tuple[Message, int]:
    """Persist a message and one delivery per subscribed endpoint; return it and that count.

    When this returns, the message and its deliveries are committed: nothing accepted is lost.
    With an idempotency ``key``, its answer is committed with them; a key used before raises
    :class:`~hookd.services.create_keys.KeyHeld` instead.
    """
    if len(payload) > ctx.settings.max_payload_bytes:
        raise PayloadTooLarge(
            f"payload is {len(payload)} bytes; the limit is {ctx.settings.max_payload_bytes}"
        )
    _check(event_type, channels, event_id)
    retention_hours = _retention_hours(payload_retention_days, payload_retention_hours)
    versions = await accept_versions(
        ctx,
        event_type,
        payload,
        payload_versions or {},
        declared=payload_version,
        validate=validate,
    )
    now = ctx.clock()
    new = NewMessage(
        app_ref=app_id,
        application=application,
        msg_id=ids.new_id(ids.MESSAGE, now),
        event_type=event_type,
        event_id=event_id,
        channels=None if channels is None else tuple(channels),
        tags=None if tags is None else tuple(tags),
        payload=payload,
        now=now,
        version=versions.version,
        payload_versions=versions.others or None,
        payload_retention_hours=retention_hours,
        deliver_at=deliver_at,
        due=_due(deliver_at, now),
        handoff=ctx.handoff,
        key=key,
        request_id=REQUEST_ID.get(),
    )
    try:
        if ctx.tracing is None:
            message, count, queued = await message_batch.commit(ctx, new)
        else:
            message, count, queued = await _commit_traced(ctx, ctx.tracing, new)
    except IntegrityError as exc:
        raise message_batch.duplicate(event_id) from exc
    if queued:  # deliveries handed to the worker are started without waking it
        ctx.wake_worker()
    return message, count


async def _commit_traced(ctx: Context, tracing: Tracing, new: NewMessage) -> Created:
    """``message_batch.commit`` inside the message's create span, whose trace context the
    message keeps: its attempts continue the trace (docs/observability.md, "Traces")."""
    attributes = {"hookd.message_id": new.msg_id, "hookd.event_type": new.event_type}
    with tracing.span("message create", "producer", attributes=attributes) as span:
        created = await message_batch.commit(ctx, dataclasses.replace(new, trace=span.context()))
        span.set("hookd.app_id", created[0].app_id)
        span.set("hookd.deliveries", created[1])
        return created


def _retention_hours(days: int | None, hours: int | None) -> int:
    """How long the payload is kept: ``payloadRetentionPeriod`` (days) or ``...Hours``."""
    if days is not None and hours is not None:
        raise Invalid(
            "payloadRetentionPeriod and payloadRetentionHours are mutually exclusive: send one",
            loc=("body", "payloadRetentionHours"),
        )
    if hours is not None:
        return hours
    return (days or store.DEFAULT_PAYLOAD_RETENTION_DAYS) * 24


def _due(deliver_at: datetime | None, now: datetime) -> datetime | None:
    """When a scheduled message's deliveries are due (None: at once)."""
    if deliver_at is None:
        return None
    if deliver_at.tzinfo is None:
        raise Invalid(
            "deliverAt needs a UTC offset, e.g. 2030-01-31T12:00:00Z", loc=("body", "deliverAt")
        )
    if deliver_at - now > MAX_DELIVER_AHEAD:
        raise Invalid("deliverAt may be at most 30 days ahead", loc=("body", "deliverAt"))
    return deliver_at if deliver_at > now else None


async def get_message(ctx: Context, app_id: str, msg_id: str) -> Message:
    async with ctx.db.read() as conn:
        app = await require_app(conn, app_id)
        message = await store.get_message(conn, app.id, msg_id)
    if message is None:
        raise NotFound(f"message {msg_id!r} not found")
    return message


async def list_messages(
    ctx: Context,
    app_id: str,
    query: ListQuery,
    *,
    event_types: list[str] | None,
    channel: str | None,
    tag: str | None = None,
) -> Page[Message]:
    """An application's messages, newest first by default."""
    async with ctx.db.read() as conn:
        app = await require_app(conn, app_id)
        return await store.list_messages(
            conn,
            app.id,
            iterator=query.iterator,
            limit=query.limit,
            event_types=event_types,
            channel=channel,
            before_id=ids.floor_id(ids.MESSAGE, query.before),
            after_id=ids.floor_id(ids.MESSAGE, query.after),
            tag=tag,
            descending=query.descending(True),
        )


async def expunge_message_content(ctx: Context, app_id: str, msg_id: str) -> None:
    """Delete a message's payload (its record and attempts stay)."""
    async with ctx.db.write() as conn:
        app = await require_app(conn, app_id)
        message = await store.get_message(conn, app.id, msg_id)
        if message is None:
            raise NotFound(f"message {msg_id!r} not found")
        await store.expunge_payloads(conn, [message.id])


async def bulk_expunge_content(ctx: Context, app_id: str, refs: Sequence[str]) -> dict[str, str]:
    """Delete these messages' payloads (ids or eventIds); say for each whether it was found."""
    wanted = list(dict.fromkeys(refs))
    async with ctx.db.write() as conn:
        app = await require_app(conn, app_id)
        found = await store.find_refs(conn, app.id, wanted)
        await store.expunge_payloads(conn, sorted(set(found.values())))
    return {ref: EXPUNGED if ref in found else NOT_FOUND for ref in wanted}
