"""What every service operation needs: the database, the settings, a clock, a wake-up call."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hookd.config import Settings
from hookd.services.handoff import HandOff
from hookd.store.db import Database


def utc_now() -> datetime:
    """Now, in UTC, to the millisecond (what the store keeps, so responses agree with reads)."""
    # Whole milliseconds as a float of seconds: exact to far below the microsecond that
    # fromtimestamp rounds to, and a third of the cost of now() and replace() on hot paths.
    return datetime.fromtimestamp(time.time_ns() // 1_000_000 / 1000, UTC)


def _nothing() -> None:
    return None


@dataclass(slots=True)
class Context:
    db: Database
    settings: Settings
    clock: Callable[[], datetime] = utc_now
    # Called after new work is queued, so a worker in this process starts at once.
    wake_worker: Callable[[], None] = field(default=_nothing)
    # This process's worker, when it takes new deliveries straight from the create transaction
    # (SQLite, role all; see services.handoff).
    handoff: HandOff | None = None
