"""How alert notices reach Slack, Teams and Discord: a protocol the engine implements.

The services may not import the engine, where the SSRF-guarded HTTP sender lives; the runtime
hands its :class:`AlertPoster` (``engine.alerts.poster.GuardedPoster``) to the services on
``ctx.alert_poster``, as it hands them the sandbox and the hand-off ledger.
"""

from __future__ import annotations

from typing import Protocol

from hookd.core.delivery import AttemptResult


class AlertPoster(Protocol):
    """Posts one JSON body to a URL through the SSRF guard; never raises for network trouble
    (the result says what happened: ``status_code`` 0 and ``error`` when nothing answered)."""

    async def post_json(self, url: str, body: bytes) -> AttemptResult: ...
