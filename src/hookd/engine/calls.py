"""The API process's own sender for synchronous calls (never queued behind deliveries).

With tracing on, each call's request is a span of its own (``engine.send_spans``), a child of
the call's span, whose trace context the endpoint receives unless it opted out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime

from hookd.config import Settings
from hookd.core.calls.plan import PlannedCall
from hookd.core.delivery import AttemptResult
from hookd.core.domain import Endpoint
from hookd.engine.auth import Authenticator
from hookd.engine.http.sender import HttpSender
from hookd.engine.send_spans import send_traced
from hookd.engine.signed_headers import USER_AGENT, webhook_headers
from hookd.tracing import Tracing

# Calls in flight at once per API process.
CALL_CONCURRENCY = 256


class CallSender:
    """Signs a planned call like a delivery and sends it with the endpoint's credentials."""

    def __init__(
        self, auth: Authenticator, signature_style: str, tracing: Tracing | None = None
    ) -> None:
        self._auth = auth
        self._style = signature_style
        self._tracing = tracing

    async def call(
        self,
        endpoint: Endpoint,
        msg_id: str,
        planned: PlannedCall,
        now: datetime,
        timeout: float,  # noqa: ASYNC109 - the call's own deadline
    ) -> AttemptResult:
        headers = webhook_headers(self._style, endpoint, msg_id, planned.body, now)
        if self._tracing is None:
            return await self._auth.send(
                endpoint, planned.method, planned.url, headers, planned.body, timeout
            )

        async def send(traced: Mapping[str, str]) -> AttemptResult:
            return await self._auth.send(
                endpoint, planned.method, planned.url, traced, planned.body, timeout
            )

        return await send_traced(
            self._tracing, endpoint, planned.method, planned.url, headers, send
        )


@asynccontextmanager
async def call_sender(
    settings: Settings, tracing: Tracing | None = None
) -> AsyncIterator[CallSender]:
    """A sender with its own connection pool, open while the block runs."""
    sender = HttpSender(
        settings.networks,
        user_agent=USER_AGENT,
        limit=CALL_CONCURRENCY,
        own=settings.own_address,
    )
    await sender.start()
    try:
        yield CallSender(Authenticator(sender), settings.signature_headers, tracing)
    finally:
        await sender.close()
