"""Ingest: answer, verify, deduplicate, persist and fan out what a provider sends to a source.

An accepted request becomes an ordinary message of the source's application, written in the
same transaction as its request record and its deliveries; the caller answers only after that
commit, so nothing acknowledged is lost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson

from hookd import ids
from hookd.core import domain
from hookd.core.domain import InboundRecord, Source
from hookd.core.providers import (
    InboundRequest,
    Verification,
    Verifier,
    describe_request,
    handshake_reply,
    verify_request,
)
from hookd.core.providers.body_shape import MALFORMED_BODY
from hookd.core.providers.redaction import config_secrets, redact_headers, redact_text
from hookd.core.providers.registry import provider_methods
from hookd.core.providers.relay import RELAY
from hookd.core.providers.request_bin import BIN
from hookd.services.context import Context
from hookd.services.errors import NotFound, ServiceError
from hookd.services.ingest.forwarding import Arrival, store_request, text_safe
from hookd.services.ingest.rejections import gate_for
from hookd.services.ingest.source_cache import source_for_ingest
from hookd.services.ingest.sources import answer_for, resolve
from hookd.telemetry import REQUEST_ID
from hookd.tracing import TraceContext

INGEST_KEY = re.compile(r"^[A-Za-z0-9\-_.]{1,256}$")
PARSED_CACHE_SIZE = 1024
RATE_LIMITED = "rate_limited"


@dataclass(frozen=True, slots=True)
class IngestAnswer:
    """What ``/in/{source}`` sends back."""

    status: int
    content_type: str | None
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Prepared:
    """What every request to one version of a source needs, worked out once."""

    verifier: Verifier
    accepted: IngestAnswer  # the answer to accepted (and duplicate) requests
    window: timedelta  # the dedup window (zero: no duplicate check)


_prepared: dict[tuple[str, str, datetime, int], Prepared] = {}


class MethodNotAllowed(ServiceError):
    status_code = 405
    code = "method_not_allowed"

    def __init__(self, detail: str, allowed: Iterable[str]) -> None:
        super().__init__(detail)
        self.allowed = ", ".join(sorted(allowed))


class SourceMisconfigured(ServiceError):
    status_code = 503
    code = "source_misconfigured"


def allowed_methods(source: Source) -> frozenset[str]:
    return provider_methods(source.provider)


def _optional_text(value: str | None) -> str | None:
    return None if value is None else text_safe(value)


# Sources that take any method and any path under their URL: request bins and relays.
TAKE_ANYTHING = frozenset({BIN, RELAY})


async def find_source(
    ctx: Context,
    key: str,
    method: str,
    now: datetime,
    *,
    sub_path: bool = False,
    relay: bool = False,
) -> Source:
    """The source ``/in/{key}`` names (404) if it takes ``method`` (405). Only a request bin
    or a relay takes any method, and paths under its URL (``sub_path``: 404 for any other
    source); ``/relay/{key}`` (``relay``) names relays only."""
    source = None
    if INGEST_KEY.match(key):  # tokens never hold anything else
        source = await source_for_ingest(ctx, key, now)
    if (
        source is None
        or (sub_path and source.provider not in TAKE_ANYTHING)
        or (relay and source.provider != RELAY)
    ):
        raise NotFound("no source has this ingest URL")
    if source.provider in TAKE_ANYTHING:
        return source
    allowed = allowed_methods(source)
    if method not in allowed and method.upper() not in allowed:
        raise MethodNotAllowed(f"a {source.provider} source accepts {', '.join(allowed)}", allowed)
    return source


def _prepare(source: Source, default_window_seconds: int) -> Prepared:
    """The config, validated when saved, parsed once per version of the source."""
    key = (source.id, source.token, source.updated_at, default_window_seconds)
    prepared = _prepared.get(key)
    if prepared is None:
        try:
            _, parsed = resolve(source.type, source.config)
        except ServiceError as exc:
            # Saved configs were valid; this only happens when a newer hookd reads older ones.
            raise SourceMisconfigured(f"the source's config is no longer valid: {exc}") from exc
        answer = answer_for(source)
        seconds = source.dedup_window_seconds
        window = timedelta(seconds=default_window_seconds if seconds is None else seconds)
        accepted = IngestAnswer(answer.status, answer.content_type, answer.body)
        prepared = Prepared(parsed, accepted, window)
        if len(_prepared) >= PARSED_CACHE_SIZE:
            _prepared.clear()
        _prepared[key] = prepared
    return prepared


async def ingest(
    ctx: Context, source: Source, request: InboundRequest, now: datetime
) -> IngestAnswer:
    """Handshake, or verify and then record and forward: the whole life of one request.

    Every request a known source receives is recorded; each is answered only after the
    (group-committed) transaction holding its record committed. With tracing on, in the
    request's ingest span, whose trace context its message keeps: the forwards continue it.
    """
    if ctx.tracing is None:
        return await _ingest(ctx, source, request, now)
    attributes = {"hookd.source_id": source.id, "hookd.provider": source.provider}
    with ctx.tracing.span("ingest", "producer", attributes=attributes):
        return await _ingest(ctx, source, request, now)


async def _ingest(
    ctx: Context, source: Source, request: InboundRequest, now: datetime
) -> IngestAnswer:
    prepared = _prepare(source, ctx.settings.dedup_window_seconds)
    verifier = prepared.verifier
    reply = handshake_reply(verifier, request, now)
    if reply is not None:
        refused = reply.refused
        answer = IngestAnswer(reply.status, reply.content_type, reply.body, reply.headers)
        if refused is not None:  # a refused handshake: recorded like any refused request
            return await _refuse(ctx, source, request, now, refused, reply.status, answer)
        outcome = (domain.HANDSHAKE, "handshake", reply.status, f"answered {reply.status}")
        # Some handshakes need no proof (Graph's validationToken): keep their bodies small too.
        record = _record(source, request, now, *outcome, kept=ctx.settings.rejected_body_bytes)
        await store_request(ctx, Arrival(source, record))
        _report(ctx, source, domain.HANDSHAKE, "handshake", reply.status)
        return answer
    verdict = verify_request(verifier, request, now)
    # Described even when refused, so a user sees what the refused request claimed to be.
    description = describe_request(verifier, request)
    key = _optional_text(description.dedup_key)
    event_type = _optional_text(description.event_type)
    if not verdict.ok:
        # Not proven (401), or proven but not a body the provider sends (400).
        status = 400 if verdict.code == MALFORMED_BODY else 401
        body = orjson.dumps({"code": verdict.code, "detail": verdict.reason})
        answer = IngestAnswer(status, "application/json", body)
        return await _refuse(ctx, source, request, now, verdict, status, answer, key, event_type)
    answer, window = prepared.accepted, prepared.window
    outcome = (domain.ACCEPTED, verdict.code, answer.status, verdict.reason)
    record = _record(source, request, now, *outcome, key, event_type)
    since = now - window if key and window else None
    arrival = Arrival(source, record, since, trace=_trace(ctx), request_id=REQUEST_ID.get())
    stored, queued = await store_request(ctx, arrival)
    if queued:
        ctx.wake_worker()
    _report(ctx, source, stored, verdict.code, answer.status, queued)
    if stored == domain.ACCEPTED:
        ctx.telemetry.message_accepted(source.id, "ingest")
    return answer


def _trace(ctx: Context) -> TraceContext | None:
    """The current span's trace context (the request's ingest span), tracing on."""
    span = None if ctx.tracing is None else ctx.tracing.current()
    return None if span is None else span.context()


def _report(
    ctx: Context, source: Source, outcome: str, code: str, status: int, forwards: int = 0
) -> None:
    """Report a request's outcome (``Telemetry.ingest_outcome``), and with tracing on describe
    its ingest span with it."""
    ctx.telemetry.ingest_outcome(source.id, outcome, code, status, source.type)
    span = None if ctx.tracing is None else ctx.tracing.current()
    if span is not None:
        span.set("hookd.ingest.outcome", outcome)
        span.set("hookd.ingest.code", code)
        span.set("hookd.deliveries", forwards)


async def _refuse(
    ctx: Context,
    source: Source,
    request: InboundRequest,
    now: datetime,
    verdict: Verification,
    status: int,
    answer: IngestAnswer,
    key: str | None = None,
    event_type: str | None = None,
) -> IngestAnswer:
    """Record a refused request (its body cut short, repeats from one address counted on one
    record) and return ``answer``; past the address's rate of rejections, answer 429 and
    record nothing."""
    settings, address = ctx.settings, request.remote_ip or ""
    gate = gate_for(ctx.db)
    wait = gate.retry_after(source.id, address, settings.rejected_rate_limit, now)
    if wait is not None:
        detail = f"too many rejected requests from this address; retry in {wait} s"
        body = orjson.dumps({"code": RATE_LIMITED, "detail": detail})
        _report(ctx, source, RATE_LIMITED, verdict.code, 429)
        return IngestAnswer(429, "application/json", body, (("Retry-After", str(wait)),))
    outcome = (domain.REJECTED, verdict.code, status, verdict.reason)
    record = _record(
        source, request, now, *outcome, key, event_type, kept=settings.rejected_body_bytes
    )
    window = timedelta(seconds=settings.rejected_coalesce_seconds)
    repeat_of = gate.coalesce_into(source.id, address, verdict.code, record.id, window, now)
    await store_request(ctx, Arrival(source, record, repeat_of=repeat_of))
    _report(ctx, source, domain.REJECTED, verdict.code, status)
    return answer


def _record(
    source: Source,
    request: InboundRequest,
    now: datetime,
    outcome: str,
    code: str,
    status: int,
    reason: str,
    dedup_key: str | None = None,
    event_type: str | None = None,
    *,
    kept: int | None = None,
) -> InboundRecord:
    """The request's record; with ``kept``, only that many bytes of its body (and its size)."""
    _, _, query = request.url.partition("?")
    body, body_size = request.body, None
    if kept is not None and len(body) > kept:
        body, body_size = body[:kept], len(body)
    # The credentials a request presented are not kept (core.providers.redaction).
    secrets = config_secrets(source.config)
    # Positional, in InboundRecord's field order: a request's hottest constructor call.
    return InboundRecord(
        ids.new_id(ids.REQUEST, now),  # id
        source.id,  # source_id
        now,  # received_at
        request.method,
        text_safe(redact_text(request.url, secrets)),
        text_safe(request.path),
        text_safe(redact_text(query, secrets)),
        redact_headers(request.headers.pairs, secrets),
        body,
        request.remote_ip,
        outcome,
        code,
        reason,
        status,  # response_status
        dedup_key,
        event_type,
        None,  # msg_id: set when the message is written
        body_size,
    )
