"""``Telemetry.request_served``: every HTTP request the server answers, timed.

Wrapped around the whole server (``api.app.create_server``) only when the runtime has a
telemetry other than the default no-op, so the default costs nothing per request.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookd.telemetry import Telemetry

# The route template of a request no route matched (a 404), or that failed before routing.
UNMATCHED = ""
INGEST_ROUTE = "/in/{source}"
RELAY_ROUTE = "/relay/{relay}"  # a relay's URL (hookd listen), answered by the ingest door too


class Served:
    """Reports method, route template, status and duration of each HTTP request."""

    def __init__(self, app: ASGIApp, telemetry: Telemetry) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 0  # no answer: the client left, or the server failed before answering

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.telemetry.request_served(
                scope["method"], route_of(scope), status, time.monotonic() - started
            )


def route_of(scope: Scope) -> str:
    """The path template of the route that answered (never the path, which holds ids)."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    if scope["path"].startswith("/in/"):
        return INGEST_ROUTE  # answered in front of FastAPI (api.ingest.door)
    if scope["path"].startswith("/relay/"):
        return RELAY_ROUTE
    return UNMATCHED
