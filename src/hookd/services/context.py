"""What every service operation needs: the database, the settings, a clock, a wake-up call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hookd.config import Settings
from hookd.services.handoff import HandOff
from hookd.store.db import Database


def utc_now() -> datetime:
    """Now, in UTC, to the millisecond (what the store keeps, so responses agree with reads)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


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
