"""The runtime's :class:`~hookd.services.alerts.transport.AlertPoster`: alert notices posted to
Slack, Teams and Discord through hookd's SSRF-guarded HTTP sender.

It has a sender of its own (a small pool, opened on the first notice and closed with the
runtime), so a notice never waits behind queued deliveries, and an API-only process (``role
api``, which has no delivery sender) can send a channel's test notice too.
"""

from __future__ import annotations

import asyncio

from hookd.config import Settings
from hookd.core.delivery import AttemptResult
from hookd.engine.http.sender import HttpSender
from hookd.engine.signed_headers import USER_AGENT

# Notices in flight at once per process: alerts are few, and each channel gets one post.
ALERT_CONNECTIONS = 16
JSON_HEADERS = {"Content-Type": "application/json"}


class GuardedPoster:
    """Posts JSON with ``HOOKD_ALLOW_NETWORKS``' SSRF rules and ``HOOKD_REQUEST_TIMEOUT``."""

    def __init__(self, settings: Settings) -> None:
        self._allow = settings.networks
        self._timeout = settings.request_timeout
        self._sender: HttpSender | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    async def _started(self) -> HttpSender | None:
        async with self._lock:
            if self._closed:
                return None
            if self._sender is None:
                sender = HttpSender(self._allow, user_agent=USER_AGENT, limit=ALERT_CONNECTIONS)
                await sender.start()
                self._sender = sender
            return self._sender

    async def post_json(self, url: str, body: bytes) -> AttemptResult:
        sender = await self._started()
        if sender is None:
            return AttemptResult(0, b"", 0, error="not sent: hookd is stopping")
        return await sender.send("POST", url, JSON_HEADERS, body, self._timeout)

    async def close(self) -> None:
        """Close the connections; later posts are refused (the runtime has stopped)."""
        async with self._lock:
            self._closed = True
            if self._sender is not None:
                await self._sender.close()
                self._sender = None
