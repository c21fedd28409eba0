"""Synchronous calls: send one signed request to an endpoint now and return its answer.

A call is the third door into the pipeline: it is recorded as a message (event type
``hookd.call``, the exact body sent as payload) with one delivery row and one attempt, so it shows
in every message and attempt listing. With ``retryAsync`` a failed call's delivery stays pending
on the retry schedule and the worker retries it like any other.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson

from hookd import ids
from hookd.core.calls.plan import (
    CALL_EVENT_TYPE,
    PlannedCall,
    plan_call,
    read_response,
)
from hookd.core.calls.templates import MissingParam, TemplateError
from hookd.core.delivery import AttemptResult, Failure, next_step
from hookd.core.destinations import is_destination_url
from hookd.core.domain import Attempt, DeliveryStatus, Endpoint, Message, TriggerType
from hookd.services.applications import require_app
from hookd.services.context import Context
from hookd.services.endpoints.crud import require_endpoint
from hookd.services.errors import Conflict, Invalid, PayloadTooLarge
from hookd.store import attempts as attempt_store
from hookd.store import deliveries, rollups
from hookd.store import messages as message_store
from hookd.store.attempts import attempt_row
from hookd.store.codec import to_ms
from hookd.telemetry import REQUEST_ID
from hookd.tracing import TraceContext


class CallTransport(Protocol):
    """Signs and sends a planned call with the endpoint's credentials (``engine.calls``)."""

    async def call(
        self,
        endpoint: Endpoint,
        msg_id: str,
        planned: PlannedCall,
        now: datetime,
        timeout: float,  # noqa: ASYNC109
    ) -> AttemptResult: ...


@dataclass(frozen=True, slots=True)
class CallError:
    code: str  # timeout | call_failed | endpoint_error
    detail: str


@dataclass(frozen=True, slots=True)
class CallOutcome:
    status: int
    headers: dict[str, str]
    body: str
    json: Any
    mapped: dict[str, Any]
    duration_ms: int
    attempt_id: str
    msg_id: str
    fallback: bool  # the endpoint's fallback response stands in for a failed call
    queued: bool  # the failed call was queued for retries (retryAsync)
    error: CallError | None


async def call_endpoint(
    ctx: Context,
    transport: CallTransport,
    app_id: str,
    endpoint_id: str,
    *,
    payload: bytes | None,
    params: Mapping[str, Any],
    timeout_ms: int | None,
) -> CallOutcome:
    """Make the call within its deadline, record it, and say what came back.

    With tracing on, in the call's span (its request to the endpoint a child of it), whose
    trace context the recorded message keeps: a queued retry continues the trace."""
    started = time.monotonic()
    async with ctx.db.read() as conn:
        app = await require_app(conn, app_id)
        endpoint = await require_endpoint(conn, app.id, endpoint_id)
    planned = _plan(ctx, endpoint, payload, params, timeout_ms)
    now = ctx.clock()
    msg_id = ids.new_id(ids.MESSAGE, now)
    if ctx.tracing is None:
        return await _call(ctx, transport, endpoint, msg_id, planned, now, started)
    attributes = {
        "hookd.app_id": endpoint.app_id,
        "hookd.endpoint_id": endpoint.id,
        "hookd.message_id": msg_id,
    }
    with ctx.tracing.span("endpoint call", attributes=attributes) as span:
        outcome = await _call(
            ctx, transport, endpoint, msg_id, planned, now, started, trace=span.context()
        )
        span.set("hookd.call.status", outcome.status)
        if outcome.error is not None:
            span.fail(outcome.error.code)
        return outcome


async def _call(
    ctx: Context,
    transport: CallTransport,
    endpoint: Endpoint,
    msg_id: str,
    planned: PlannedCall,
    now: datetime,
    started: float,
    *,
    trace: TraceContext | None = None,
) -> CallOutcome:
    budget = planned.timeout_ms / 1000 - (time.monotonic() - started)
    result = await transport.call(endpoint, msg_id, planned, now, max(budget, 0.001))
    if result.timed_out:
        result = _timed_out(result, planned.timeout_ms)
    attempt_id, queued = await _record(ctx, endpoint, msg_id, planned, result, now, trace)
    outcome = _outcome(endpoint, result, attempt_id, msg_id, queued)
    code = "success" if outcome.error is None else outcome.error.code
    ctx.telemetry.call_finished(endpoint.app_id, code, time.monotonic() - started)
    return outcome


def _plan(
    ctx: Context,
    endpoint: Endpoint,
    payload: bytes | None,
    params: Mapping[str, Any],
    timeout_ms: int | None,
) -> PlannedCall:
    if endpoint.disabled:
        raise Conflict(f"endpoint {endpoint.id!r} is disabled", code="endpoint_disabled")
    if endpoint.call.url_template is None and is_destination_url(endpoint.url):
        raise Conflict(
            "calls need an http(s) endpoint or a urlTemplate; this endpoint is a broker",
            code="not_callable",
        )
    try:
        planned = plan_call(endpoint.call, endpoint.url, payload, params, timeout_ms)
    except MissingParam as exc:
        raise Invalid(str(exc), loc=("body", "params", exc.name)) from exc
    except TemplateError as exc:
        raise Invalid(str(exc), loc=("body", "params")) from exc
    if len(planned.body) > ctx.settings.max_payload_bytes:
        raise PayloadTooLarge(
            f"the call body is {len(planned.body)} bytes; "
            f"the limit is {ctx.settings.max_payload_bytes}"
        )
    return planned


def _timed_out(result: AttemptResult, timeout_ms: int) -> AttemptResult:
    return AttemptResult.no_response(
        f"no answer within the call's deadline of {timeout_ms} ms",
        result.duration_ms,
        timed_out=True,
        failure=Failure.TIMEOUT,
    )


async def _record(
    ctx: Context,
    endpoint: Endpoint,
    msg_id: str,
    planned: PlannedCall,
    result: AttemptResult,
    now: datetime,
    trace: TraceContext | None,
) -> tuple[str, bool]:
    """Write the message (with the call span's ``trace``), its delivery and the attempt in
    one transaction."""
    status = DeliveryStatus.SUCCESS if result.succeeded else DeliveryStatus.FAIL
    delivery_status, next_at = status, None
    if not result.succeeded and endpoint.call.retry_async:
        step = next_step(result, 1, ctx.settings.schedule, ctx.clock(), random.Random())
        if step.status == DeliveryStatus.PENDING:
            delivery_status, next_at = DeliveryStatus.PENDING, step.next_attempt_at
    message = Message(
        id=msg_id,
        app_id=endpoint.app_id,
        event_type=CALL_EVENT_TYPE,
        event_id=None,
        channels=None,
        tags=None,
        payload=planned.body,
        created_at=now,
        traceparent=None if trace is None else trace.traceparent,
        tracestate=None if trace is None else trace.tracestate,
        request_id=REQUEST_ID.get(),
    )
    attempt = Attempt(
        id=ids.new_id(ids.ATTEMPT, now),
        msg_id=msg_id,
        endpoint_id=endpoint.id,
        app_id=endpoint.app_id,
        url=planned.url,
        status=status,
        response_status_code=result.status_code,
        response=result.excerpt(),
        response_duration_ms=result.duration_ms,
        trigger_type=TriggerType.MANUAL,
        attempt_number=1,
        created_at=now,
    )
    [delivery] = deliveries.new_delivery_rows(
        [ids.new_id(ids.DELIVERY, now)], msg_id, endpoint.app_id, [endpoint.id], to_ms(now)
    )
    delivery.update(
        status=int(delivery_status),
        attempts=1,
        next_attempt_at=None if next_at is None else to_ms(next_at),
    )
    async with ctx.db.write() as conn:
        await message_store.insert_message(conn, message)
        await deliveries.insert_deliveries(conn, [delivery])
        row = attempt_row(attempt)
        await attempt_store.insert_attempt(conn, row)
        await rollups.add_attempts_async(conn, [rollups.attempt_row_fact(row)])
    queued = delivery_status == DeliveryStatus.PENDING
    if queued:
        ctx.wake_worker()
    return attempt.id, queued


def _outcome(
    endpoint: Endpoint, result: AttemptResult, attempt_id: str, msg_id: str, queued: bool
) -> CallOutcome:
    error = _error(result)
    fallback = endpoint.call.fallback_response
    mapping = endpoint.call.response_mapping
    status, headers, body = result.status_code, _headers(result.headers), result.body
    if error is not None and fallback is not None:
        status, headers = fallback.status, {"content-type": "application/json"}
        body = orjson.dumps(fallback.body)
    response = read_response(body, mapping)
    return CallOutcome(
        status=status,
        headers=headers,
        body=body.decode("utf-8", errors="replace"),
        json=response.json,
        mapped=response.mapped,
        duration_ms=result.duration_ms,
        attempt_id=attempt_id,
        msg_id=msg_id,
        fallback=error is not None and fallback is not None,
        queued=queued,
        error=error,
    )


def _error(result: AttemptResult) -> CallError | None:
    if result.succeeded:
        return None
    if result.timed_out:
        return CallError("timeout", result.error or "timed out")
    if result.error is not None:
        return CallError("call_failed", result.error)
    return CallError("endpoint_error", f"the endpoint answered {result.status_code}")


def _headers(pairs: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Response headers by lower-case name; repeated headers joined with ', '."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers
