"""The API process's own sender for synchronous calls (never queued behind deliveries)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from hookd.config import Settings
from hookd.core.calls.plan import PlannedCall
from hookd.core.delivery import AttemptResult
from hookd.core.domain import Endpoint
from hookd.engine.auth import Authenticator
from hookd.engine.http.sender import HttpSender
from hookd.engine.signed_headers import USER_AGENT, webhook_headers

# Calls in flight at once per API process.
CALL_CONCURRENCY = 256


class CallSender:
    """Signs a planned call like a delivery and sends it with the endpoint's credentials."""

    def __init__(self, auth: Authenticator, signature_style: str) -> None:
        self._auth = auth
        self._style = signature_style

    async def call(
        self,
        endpoint: Endpoint,
        msg_id: str,
        planned: PlannedCall,
        now: datetime,
        timeout: float,  # noqa: ASYNC109 - the call's own deadline
    ) -> AttemptResult:
        headers = webhook_headers(self._style, endpoint, msg_id, planned.body, now)
        return await self._auth.send(
            endpoint, planned.method, planned.url, headers, planned.body, timeout
        )


@asynccontextmanager
async def call_sender(settings: Settings) -> AsyncIterator[CallSender]:
    """A sender with its own connection pool, open while the block runs."""
    sender = HttpSender(settings.networks, user_agent=USER_AGENT, limit=CALL_CONCURRENCY)
    await sender.start()
    try:
        yield CallSender(Authenticator(sender), settings.signature_headers)
    finally:
        await sender.close()
