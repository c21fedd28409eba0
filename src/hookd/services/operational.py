"""Operational webhooks: hookd's own events (core.operational) sent through its own pipeline.

The operational webhook endpoints are the endpoints of one hidden application (kind
"operational", a fixed id). An event is an ordinary message of that application, written in the
same transaction as the change it reports (an endpoint saved, a worker's outcomes flushed), so
an event is never lost nor sent for a change that rolled back; the worker delivers it with the
usual signing, retries and attempt records. Events about the operational endpoints themselves,
and about inbound sources' forwarding endpoints, are not sent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd import ids
from hookd.core import operational as ops
from hookd.core.domain import Application, DeliveryStatus, Endpoint, Message, TriggerType
from hookd.core.operational import AttemptOutcome, EndpointRef, OperationalEvent
from hookd.services.alerts.webhook_app import ALERT_APP_ID
from hookd.services.context import Context
from hookd.services.messages.fanout import delivery_rows, outbound_targets
from hookd.store import applications as app_store
from hookd.store import message_writes
from hookd.store import messages as message_store
from hookd.store import operational as facts
from hookd.store.codec import from_ms
from hookd.store.deliveries import Finish
from hookd.telemetry import REQUEST_ID

# One well-known id (as Svix's management organisation): processes racing to create it collide
# on the primary key instead of creating two.
OPERATIONAL_APP_ID = "app_00000000000HookdOperational"


def reports_on(app_id: str) -> bool:
    """Only the product's own applications are reported on (not sources, not this one, not the
    webhook alert channels' one)."""
    return app_id.startswith(ids.APPLICATION) and app_id not in (OPERATIONAL_APP_ID, ALERT_APP_ID)


async def ensure_app(ctx: Context) -> None:
    """Make sure the operational application exists (created on first use)."""
    async with ctx.db.read() as conn:
        if await app_store.get_app(conn, OPERATIONAL_APP_ID) is not None:
            return
    now = ctx.clock()
    app = Application(OPERATIONAL_APP_ID, None, "operational webhooks", None, {}, now, now)
    # Another process may create it at the same moment: the primary key keeps one.
    with contextlib.suppress(IntegrityError):
        async with ctx.db.write() as conn:
            await app_store.insert_app(conn, app, kind=app_store.OPERATIONAL)


def emit(conn: Connection, events: Sequence[OperationalEvent], now: datetime) -> int:
    """Write each event as a message to the operational endpoints subscribed to its type."""
    if not events:
        return 0
    endpoints = message_writes.app_endpoints(conn, OPERATIONAL_APP_ID)
    if not endpoints:
        return 0
    message_rows: list[dict[str, Any]] = []
    queued: list[dict[str, Any]] = []
    for event in events:
        message = Message(
            id=ids.new_id(ids.MESSAGE, now),
            app_id=OPERATIONAL_APP_ID,
            event_type=event.type,
            event_id=None,
            channels=None,
            tags=None,
            payload=orjson.dumps(event.body()),
            created_at=now,
            request_id=REQUEST_ID.get(),  # an API request's change (a worker's flush: none)
        )
        targets = outbound_targets(message, endpoints)
        if targets:
            message_rows.append(message_store.message_values(message))
            queued.extend(delivery_rows(message, targets))
    # One multi-row insert per table for the whole batch of events.
    message_writes.insert_rows(conn, message_rows, queued, [])
    return len(message_rows)


async def endpoint_changed(
    conn: AsyncConnection,
    app: Application,
    before: Endpoint | None,
    after: Endpoint | None,
    now: datetime,
) -> None:
    """``endpoint.created|updated|deleted``, and ``disabled``/``enabled`` (manual) on a flip."""
    if reports_on(app.id):
        await conn.run_sync(_endpoint_changed, app, before, after, now)


def _endpoint_changed(
    conn: Connection,
    app: Application,
    before: Endpoint | None,
    after: Endpoint | None,
    now: datetime,
) -> None:
    endpoint = after or before
    assert endpoint is not None
    who = EndpointRef(app.id, app.uid, endpoint.id, endpoint.uid)
    if before is None:
        events = [ops.endpoint_event(ops.ENDPOINT_CREATED, who)]
    elif after is None:
        events = [ops.endpoint_event(ops.ENDPOINT_DELETED, who)]
    else:
        events = [ops.endpoint_event(ops.ENDPOINT_UPDATED, who)]
        if after.disabled and not before.disabled:
            events.append(ops.disabled_event(who, trigger=ops.MANUAL, fail_since=None))
        elif before.disabled and not after.disabled:
            events.append(ops.endpoint_event(ops.ENDPOINT_ENABLED, who))
    emit(conn, events, now)


def _outcome(finish: Finish) -> AttemptOutcome:
    row = finish.attempt_row
    return AttemptOutcome(
        app_id=row["app_id"],
        msg_id=row["msg_id"],
        endpoint_id=row["endpoint_id"],
        attempt_id=row["id"],
        attempt_number=row["attempt_number"],
        attempt_status=DeliveryStatus(row["status"]),
        delivery_status=finish.status,
        response_status_code=row["response_status_code"],
        sent_at=from_ms(row["created_at"]),
        manual=row["trigger_type"] == int(TriggerType.MANUAL),
    )


def after_attempts(
    conn: Connection, finished: Sequence[Finish], to_disable: set[str], now: datetime
) -> int:
    """The events of a worker flush, before it disables ``to_disable`` (automatic); returns
    how many messages were written."""
    # Most outcomes are first-attempt successes: skip them before building anything.
    candidates = (
        f
        for f in finished
        if f.status == DeliveryStatus.FAIL
        or f.attempt_row["attempt_number"] >= ops.FAILING_AFTER_ATTEMPTS
    )
    outcomes = [
        outcome
        for outcome in map(_outcome, candidates)
        if reports_on(outcome.app_id) and ops.attempt_event_type(outcome) is not None
    ]
    if not outcomes and not to_disable:
        return 0
    endpoint_ids = {o.endpoint_id for o in outcomes} | to_disable
    endpoints = facts.endpoint_facts(conn, endpoint_ids)
    # A delivery to an endpoint that was already disabled fails unsent: no news there.
    outcomes = [o for o in outcomes if not _was_disabled(endpoints, o.endpoint_id)]
    newly_disabled = sorted(
        eid
        for eid in to_disable
        if eid in endpoints and not endpoints[eid].disabled and reports_on(endpoints[eid].app_id)
    )
    app_ids = {o.app_id for o in outcomes} | {endpoints[eid].app_id for eid in newly_disabled}
    uids = facts.app_uids(conn, app_ids)
    events = ops.attempt_events(outcomes, uids, facts.event_ids(conn, {o.msg_id for o in outcomes}))
    for eid in newly_disabled:
        endpoint = endpoints[eid]
        events.append(
            ops.disabled_event(
                EndpointRef(endpoint.app_id, uids.get(endpoint.app_id), eid, endpoint.uid),
                trigger=ops.AUTOMATIC,
                fail_since=endpoint.failing_since,
            )
        )
    return emit(conn, events, now)


def _was_disabled(endpoints: dict[str, facts.EndpointFacts], endpoint_id: str) -> bool:
    endpoint = endpoints.get(endpoint_id)
    return endpoint is None or endpoint.disabled
