"""An endpoint's JavaScript transformation, applied to a delivery just before it is signed.

``prepare_delivery`` says what the worker signs and sends: the message as it is, or what the
endpoint's transformation made of it (method, URL, headers, body), or why nothing is sent
(the transformation cancelled the delivery, or failed: threw, timed out, ran out of memory,
returned something unusable). hookd signs what is sent, so the signature covers the
transformed body.

An ingested request's body is kept as it came, with its ``Content-Encoding``. A transformation
sees a gzip or deflate body decoded (and no ``Content-Encoding``); a body it leaves alone goes
out as it came, with its coding, and a body it writes goes out without one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from hookd.config import Settings
from hookd.core.delivery import AttemptResult, Failure
from hookd.core.domain import Endpoint
from hookd.core.http_wire import fully_decoded
from hookd.core.payloads.shapes import Shaped
from hookd.core.transformations import (
    Cancelled,
    Sandbox,
    Transformation,
    TransformError,
    TransformInput,
)
from hookd.engine import durations
from hookd.telemetry import NO_TELEMETRY, Telemetry

MIB = 1024 * 1024
# Set by the HTTP client or by hookd's signature; a transformation's values for them are dropped.
NOT_SETTABLE = frozenset({"host", "content-length", "transfer-encoding", "connection"})
NOT_SETTABLE_PREFIXES = ("webhook-", "svix-")
ORIGINAL_METHOD = "POST"
CONTENT_ENCODING = "content-encoding"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What to sign and send. ``endpoint`` carries the URL and custom headers as sent."""

    method: str
    endpoint: Endpoint
    forwarded: Mapping[str, str] | None
    content_type: str | None
    body: bytes


@dataclass(frozen=True, slots=True)
class NotSent:
    """A delivery the transformation cancelled (final) or failed (an attempt that is retried)."""

    result: AttemptResult
    cancelled: bool


def unsigned_headers(
    endpoint: Endpoint, forwarded: Mapping[str, str] | None, content_type: str | None
) -> dict[str, str]:
    """The headers of a delivery before hookd signs it.

    An ingested message adds the original request's ``forwarded`` headers and ``content_type``;
    the endpoint's custom headers override forwarded ones.
    """
    custom = {name.lower() for name in endpoint.headers}
    return {
        **{k: v for k, v in (forwarded or {}).items() if k.lower() not in custom},
        **endpoint.headers,
        "Content-Type": content_type or "application/json",
    }


async def prepare_delivery(
    settings: Settings,
    sandbox: Sandbox | None,
    endpoint: Endpoint,
    shaped: Shaped,
    telemetry: Telemetry = NO_TELEMETRY,
) -> Outgoing | NotSent:
    """The request to sign and send for a shaped delivery to ``endpoint``, or why there is none.

    The transformation sees what would be sent without it: the version the endpoint gets, or
    the thin body. It runs in ``sandbox`` (the runtime's; without one, it fails). How each run
    ended is reported to ``telemetry`` (``transformation_finished``).
    """
    payload = shaped.body
    original = Outgoing(ORIGINAL_METHOD, endpoint, shaped.forwarded, shaped.content_type, payload)
    rule = endpoint.transformation
    if rule is None or not rule.enabled:
        return original
    forwarded, seen, coding = _decoded_view(settings, shaped.forwarded, payload)
    request = TransformInput.from_http(
        ORIGINAL_METHOD,
        endpoint.url,
        unsigned_headers(endpoint, forwarded, shaped.content_type),
        seen,
    )
    started = durations.mark()
    try:
        if sandbox is None:
            raise TransformError("runtime", "no transformation sandbox in this process")
        outcome = await sandbox.apply(
            Transformation(rule.code),
            request,
            timeout_ms=settings.transform_timeout_ms,
            max_memory=settings.transform_max_memory_mb * MIB,
            # Its application's and endpoint's turn and share of the shared sandbox.
            app=endpoint.app_id,
            endpoint=endpoint.id,
        )
    except TransformError as exc:
        telemetry.transformation_finished(exc.kind, durations.elapsed_s(started))
        return _not_sent(f"transformation failed: {exc.message}", started, cancelled=False)
    if isinstance(outcome, Cancelled):
        telemetry.transformation_finished("cancelled", durations.elapsed_s(started))
        return _not_sent(f"cancelled by the transformation: {outcome.reason}", started, True)
    telemetry.transformation_finished("transformed", durations.elapsed_s(started))
    headers = {
        name: value
        for name, value in outcome.headers.items()
        if name.lower() not in NOT_SETTABLE and not name.lower().startswith(NOT_SETTABLE_PREFIXES)
    }
    content_type = next((v for n, v in headers.items() if n.lower() == "content-type"), None)
    # The coding of the bytes sent: hookd writes a new body as UTF-8 text or JSON, never
    # compressed; a body left alone goes as it came, with the coding it came with.
    sent_coding = None
    if not outcome.body_changed:
        sent_coding = coding or next(
            (v for n, v in headers.items() if n.lower() == CONTENT_ENCODING), None
        )
    headers = {
        name: value
        for name, value in headers.items()
        if name.lower() not in ("content-type", CONTENT_ENCODING)
    }
    if sent_coding is not None:
        headers[CONTENT_ENCODING] = sent_coding
    return Outgoing(
        outcome.method,
        # The transformation saw (and may have dropped) the custom headers: send its set only.
        replace(endpoint, url=outcome.url, headers={}),
        headers,
        content_type,
        outcome.body_bytes(payload),
    )


def _decoded_view(
    settings: Settings, forwarded: Mapping[str, str] | None, payload: bytes
) -> tuple[Mapping[str, str] | None, bytes, str | None]:
    """The forwarded headers and body a transformation sees, and the ``Content-Encoding`` it
    was spared (None when the body is shown as stored: no coding, or one that does not
    decode within the payload limit)."""
    coding = next((v for n, v in (forwarded or {}).items() if n.lower() == CONTENT_ENCODING), None)
    if coding is None:
        return forwarded, payload, None
    decoded = fully_decoded(payload, coding, settings.max_payload_bytes)
    if decoded is None:
        return forwarded, payload, None
    kept = {n: v for n, v in (forwarded or {}).items() if n.lower() != CONTENT_ENCODING}
    return kept, decoded, coding


def _not_sent(reason: str, started: float, cancelled: bool) -> NotSent:
    failure = Failure.CANCELLED if cancelled else Failure.TRANSFORMATION
    result = AttemptResult.no_response(reason, durations.elapsed_ms(started), failure=failure)
    return NotSent(result, cancelled)
