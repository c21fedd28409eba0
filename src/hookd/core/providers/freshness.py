"""Replay windows for providers that sign a timestamp."""

from __future__ import annotations

from datetime import datetime

from hookd.core.providers.model import Verification

__all__ = ["DEFAULT_TOLERANCE_SECONDS", "outside_window", "parse_unix_seconds"]

DEFAULT_TOLERANCE_SECONDS = 300
# Twelve digits reach the year 33658; longer strings are garbage and would overflow floats.
_MAX_DIGITS = 12


def parse_unix_seconds(text: str) -> int | None:
    """A Unix timestamp in whole seconds written in ASCII digits, or ``None``."""
    text = text.strip()
    if not text or len(text) > _MAX_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def outside_window(timestamp: float, now: datetime, tolerance_seconds: int) -> Verification | None:
    """A rejection when ``timestamp`` is further than the tolerance from ``now``, else ``None``.

    Future timestamps are refused too: Stripe's SDK accepts them, but a signature from the
    future only proves a clock is wrong or someone kept a request to replay later.
    """
    if abs(now.timestamp() - timestamp) <= tolerance_seconds:
        return None
    return Verification.rejected(
        "timestamp_out_of_tolerance",
        f"timestamp outside the {tolerance_seconds} s tolerance",
    )
