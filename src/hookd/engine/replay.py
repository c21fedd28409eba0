"""The API process's sender for replaying a request bin's capture to a URL (docs/bins.md).

An :class:`HttpSender` of its own (never queued behind deliveries), with the same SSRF guard:
the operator's ``HOOKD_ALLOW_NETWORKS``, and the server's own public URL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from hookd.config import Settings
from hookd.engine.http.sender import HttpSender
from hookd.engine.signed_headers import USER_AGENT

# Replays in flight at once per API process (each is one request a user asked for).
REPLAY_CONNECTIONS = 32


@asynccontextmanager
async def replay_sender(settings: Settings) -> AsyncIterator[HttpSender]:
    """A started sender, closed when the block ends."""
    sender = HttpSender(
        settings.networks,
        user_agent=USER_AGENT,
        limit=REPLAY_CONNECTIONS,
        own=settings.own_address,
    )
    await sender.start()
    try:
        yield sender
    finally:
        await sender.close()
