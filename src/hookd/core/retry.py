"""Retry schedules: when the next attempt of a failed delivery is due."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

# Svix's schedule: after the immediate first attempt, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_DELAYS: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
JITTER = 0.2
# A Retry-After may postpone an attempt, never advance it, and never past this cap.
DEFAULT_MAX_RETRY_AFTER = 3600.0


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """Delays in seconds between attempts; attempt 1 is immediate, so there are len+1 attempts."""

    delays: tuple[float, ...] = DEFAULT_DELAYS
    jitter: float = JITTER
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER

    @classmethod
    def parse(cls, text: str) -> RetrySchedule:
        """Parse ``"5,300,1800"``; raise ValueError on anything else."""
        parts = [part.strip() for part in text.split(",") if part.strip()]
        delays = tuple(float(part) for part in parts)
        if any(delay < 0 for delay in delays):
            raise ValueError("retry delays must be zero or positive")
        return cls(delays=delays)

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    def next_delay(
        self,
        attempts_made: int,
        rng: random.Random,
        retry_after: float | None = None,
    ) -> float | None:
        """Seconds until the next attempt after ``attempts_made`` attempts; None when exhausted."""
        if attempts_made < 1 or attempts_made > len(self.delays):
            return None
        scheduled = self.delays[attempts_made - 1]
        if retry_after is not None and retry_after > scheduled:
            scheduled = min(retry_after, max(scheduled, self.max_retry_after))
        return scheduled * (1 + rng.uniform(-self.jitter, self.jitter))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - now).total_seconds())
