"""The server span of every HTTP request the server answers (tracing on, ``hookd.tracing``).

Wrapped around the whole server (``api.app.create_server``), ``/in/`` included, only when
tracing is on. A request's W3C ``traceparent`` and ``tracestate`` make its span a child of the
caller's (a producer creating a message, a provider calling ``/in/``), so the caller's trace
goes on through hookd to the endpoints. The span is named ``{method} {route template}`` once
routed (``http.route``; never the path, which holds ids and ingest tokens), with the
attributes of OpenTelemetry's HTTP server conventions; a 5xx answer fails it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookd.api.served import route_of
from hookd.engine.send_spans import OTHER_METHOD, http_method
from hookd.tracing import TraceContext, Tracing

TRACEPARENT = b"traceparent"
TRACESTATE = b"tracestate"


class Traced:
    """Opens each HTTP request's server span around ``app``."""

    def __init__(self, app: ASGIApp, tracing: Tracing) -> None:
        self.app = app
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = http_method(scope["method"])
        name = "HTTP" if method == OTHER_METHOD else method
        attributes = {"http.request.method": method, "url.scheme": scope.get("scheme", "http")}
        status = 0  # no answer: the client left, or the server failed before answering

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        parent = incoming(scope)
        with self.tracing.span(name, "server", parent=parent, attributes=attributes) as span:
            try:
                await self.app(scope, receive, sending)
            finally:
                route = route_of(scope)
                if route:
                    span.set("http.route", route)
                    span.rename(f"{name} {route}")
                if status:
                    span.set("http.response.status_code", status)
                    if status >= 500:
                        span.fail(str(status))


def incoming(scope: Scope) -> TraceContext | None:
    """The caller's trace context, from the request's ``traceparent`` and ``tracestate``
    (several ``tracestate`` lines are one list, as W3C's Trace Context says)."""
    traceparent: str | None = None
    states: list[str] = []
    for name, value in scope["headers"]:
        if name == TRACEPARENT:
            traceparent = value.decode("latin-1")
        elif name == TRACESTATE:
            states.append(value.decode("latin-1"))
    return TraceContext.of(traceparent, ",".join(states))
