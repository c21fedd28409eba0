"""Per-endpoint rate limits: a token bucket refilled at ``rate`` tokens a second.

The bucket holds at most one second's worth (``rate`` tokens, at least one), so an endpoint
limited to N messages a second never receives more than N in any second plus that burst.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class TokenBucket:
    tokens: float
    at: datetime  # when ``tokens`` was last computed


def capacity(rate: float) -> float:
    return max(1.0, rate)


def refill(bucket: TokenBucket | None, rate: float, now: datetime) -> TokenBucket:
    """The bucket at ``now``; a missing bucket (never used, or limit just set) starts full."""
    if bucket is None:
        return TokenBucket(capacity(rate), now)
    elapsed = max(0.0, (now - bucket.at).total_seconds())
    return TokenBucket(min(capacity(rate), bucket.tokens + elapsed * rate), now)


def available(bucket: TokenBucket) -> int:
    """Whole messages the bucket allows now."""
    return math.floor(bucket.tokens + 1e-9)


def take(bucket: TokenBucket, count: int) -> TokenBucket:
    """Spend ``count`` tokens (never more than ``available``)."""
    return TokenBucket(bucket.tokens - min(count, available(bucket)), bucket.at)


def next_token_at(bucket: TokenBucket, rate: float) -> datetime:
    """When the bucket next holds a whole token (``bucket.at`` if it already does)."""
    missing = 1.0 - bucket.tokens
    if missing <= 1e-9:
        return bucket.at
    return bucket.at + timedelta(seconds=missing / rate)
