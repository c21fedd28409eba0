"""What every service operation needs: the database, the settings, a clock, the runtime's hooks.

A :class:`Context` is immutable. The serving process gets its one from the runtime
(``engine.runtime.Runtime``), which fills the hooks below with its own parts; a context built
directly (tests, CLI commands) has none: its wake-ups go nowhere and it hands nothing off.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from hookd.config import Settings
from hookd.core.transformations import Sandbox
from hookd.services.alerts.transport import AlertPoster
from hookd.services.handoff import HandOffLedger
from hookd.store.db import Database
from hookd.telemetry import NO_TELEMETRY, Telemetry
from hookd.tracing import Tracing


def utc_now() -> datetime:
    """Now, in UTC, to the millisecond (what the store keeps, so responses agree with reads)."""
    # Whole milliseconds as a float of seconds: exact to far below the microsecond that
    # fromtimestamp rounds to, and a third of the cost of now() and replace() on hot paths.
    return datetime.fromtimestamp(time.time_ns() // 1_000_000 / 1000, UTC)


def _nothing() -> None:
    return None


@dataclass(frozen=True, slots=True)
class Context:
    db: Database
    settings: Settings
    clock: Callable[[], datetime] = utc_now
    # Called after new work is queued, so the workers start at once (``Runtime.wake``).
    wake_worker: Callable[[], None] = _nothing
    # This process's worker's in-flight ledger, when it takes new deliveries straight from the
    # create transaction (SQLite, role all; see services.handoff).
    handoff: HandOffLedger | None = None
    # Where transformations are checked and run (the runtime's, one per process).
    sandbox: Sandbox | None = None
    # What hookd reports about its work (hookd.telemetry); nothing by default.
    telemetry: Telemetry = NO_TELEMETRY
    # Where spans are opened (hookd.tracing); None, the free path, unless tracing is on.
    tracing: Tracing | None = None
    # Posts alert notices to Slack, Teams and Discord through the SSRF guard (the runtime's;
    # without one, those channels are not sent to: services.alerts.notify).
    alert_poster: AlertPoster | None = None
