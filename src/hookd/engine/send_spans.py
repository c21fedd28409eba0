"""The span of one request hookd sends to an endpoint (a delivery attempt's or a call's), and
the W3C trace context it carries there.

Used only with tracing on (``hookd.tracing``): the worker and the call sender check for ``None``
and send plainly otherwise. An HTTP request is a client span named by its method, with the
attributes of OpenTelemetry's HTTP conventions but ``url.full``: webhook URLs carry credentials
in their path or query often enough (chat services' webhook URLs are the secret themselves), so
only the scheme, host and port are recorded. A broker destination's publish is a producer span.
Unless the endpoint opted out (``Endpoint.trace_context``), the request carries the span's
``traceparent`` and ``tracestate`` in place of any it had.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import urlsplit

from hookd.core.delivery import AttemptResult
from hookd.core.destinations import is_destination_url
from hookd.core.domain import Endpoint
from hookd.tracing import Attributes, Span, SpanKind, Tracing, with_trace_headers

# HTTP's methods as OpenTelemetry's conventions know them; any other is "_OTHER".
KNOWN_METHODS = frozenset(
    {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}
)
OTHER_METHOD = "_OTHER"
DEFAULT_PORTS = {"http": 80, "https": 443}
# messaging.system for each broker scheme (core.destinations).
MESSAGING_SYSTEMS = {
    "redis": "redis",
    "rediss": "redis",
    "amqp": "rabbitmq",
    "amqps": "rabbitmq",
    "nats": "nats",
    "kafka": "kafka",
    "sqs": "aws_sqs",
}

Send = Callable[[Mapping[str, str]], Awaitable[AttemptResult]]


def http_method(method: str) -> str:
    """The method as OpenTelemetry's HTTP conventions record it (bounded: ``_OTHER``)."""
    upper = method.upper()
    return upper if upper in KNOWN_METHODS else OTHER_METHOD


def describe_request(method: str, url: str) -> tuple[str, SpanKind, Attributes]:
    """The name, kind and attributes of the span of a request to ``url`` (no path, no query,
    no credentials)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:  # an unparseable URL: the request fails; the span says little
        return "send", "client", {}
    scheme = parts.scheme.lower()
    if is_destination_url(url):
        system = MESSAGING_SYSTEMS.get(scheme, scheme)
        attributes: dict[str, str | int] = {
            "messaging.system": system,
            "messaging.operation.type": "send",
        }
        if host:
            attributes["server.address"] = host
        return f"send {system}", "producer", attributes
    known = http_method(method)
    attributes = {"http.request.method": known, "url.scheme": scheme, "server.address": host}
    if port is not None or scheme in DEFAULT_PORTS:
        attributes["server.port"] = port if port is not None else DEFAULT_PORTS[scheme]
    return ("HTTP" if known == OTHER_METHOD else known), "client", attributes


def error_type(result: AttemptResult) -> str:
    """Why a request failed, bounded: ``timeout``, the status answered, or ``no_response``
    (no connection, refused by the SSRF guard, not sent at all)."""
    if result.timed_out:
        return "timeout"
    return str(result.status_code) if result.status_code else "no_response"


def describe_result(span: Span, result: AttemptResult) -> None:
    """The outcome on the request's span: the status answered, or why there was none."""
    if result.status_code:
        span.set("http.response.status_code", result.status_code)
    if result.error is not None or result.status_code >= 400:
        span.fail(error_type(result))


def describe_attempt(span: Span, result: AttemptResult, *, cancelled: bool = False) -> None:
    """An attempt's outcome on its span: succeeded, or failed and why (a delivery its
    transformation cancelled is not a failure)."""
    span.set("hookd.attempt.succeeded", result.succeeded)
    if result.status_code:
        span.set("hookd.attempt.status_code", result.status_code)
    if cancelled:
        span.set("hookd.attempt.cancelled", True)
    elif not result.succeeded:
        span.fail(error_type(result))


async def send_traced(
    tracing: Tracing,
    endpoint: Endpoint,
    method: str,
    url: str,
    headers: Mapping[str, str],
    send: Send,
) -> AttemptResult:
    """``send(headers)`` in the request's span; the headers carry its trace context unless
    ``endpoint`` opted out."""
    name, kind, attributes = describe_request(method, url)
    with tracing.span(name, kind, attributes=attributes) as span:
        if endpoint.trace_context:
            headers = with_trace_headers(headers, span.context())
        result = await send(headers)
        describe_result(span, result)
    return result
