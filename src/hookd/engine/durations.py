"""How long an attempt took: one clock and one rounding for every way of sending (HTTP, the
brokers, an endpoint's token fetch, a transformation), so their durations compare."""

from __future__ import annotations

import time


def mark() -> float:
    """Now, on the clock :func:`elapsed_ms` measures with (monotonic, high resolution)."""
    return time.perf_counter()


def elapsed_ms(since: float) -> int:
    """Whole milliseconds since ``since`` (a :func:`mark`)."""
    return int((time.perf_counter() - since) * 1000)


def elapsed_s(since: float) -> float:
    """Seconds since ``since`` (a :func:`mark`)."""
    return time.perf_counter() - since
