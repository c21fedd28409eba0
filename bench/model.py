"""What a scenario hands back: one row of the report plus details for the JSON file."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.measure import LatencySummary, Usage

MIB = 1024 * 1024


@dataclass(slots=True)
class ScenarioResult:
    name: str
    summary: str
    deliveries: int
    seconds: float
    latency: LatencySummary | None = None
    usage: Usage | None = None
    verified: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.deliveries / self.seconds if self.seconds > 0 else math.nan

    @property
    def cpu_per_1k(self) -> float:
        if self.usage is None or not self.deliveries:
            return math.nan
        return self.usage.cpu_seconds / self.deliveries * 1000

    @property
    def peak_rss_mb(self) -> float:
        return math.nan if self.usage is None else self.usage.peak_rss_bytes / MIB

    @property
    def other_cpu_seconds(self) -> float:
        """Machine CPU in the window not spent by the system under test, sink or producer."""
        if self.usage is None:
            return math.nan
        known = self.usage.cpu_seconds
        for key in ("sink_cpu_seconds", "loadgen_cpu_seconds", "producer_cpu_seconds"):
            value = self.details.get(key)
            known += value if isinstance(value, int | float) else 0.0
        return max(self.usage.machine_busy_seconds - known, 0.0)

    def to_json(self) -> dict[str, Any]:
        usage = None
        if self.usage is not None:
            usage = {
                "cpu_seconds": self.usage.cpu_seconds,
                "cpu_seconds_by_role": self.usage.by_role,
                "peak_rss_bytes": self.usage.peak_rss_bytes,
                "window_seconds": self.usage.window_seconds,
                "machine_busy_cpu_seconds": self.usage.machine_busy_seconds,
                "other_cpu_seconds": self.other_cpu_seconds,
            }
        return {
            "name": self.name,
            "summary": self.summary,
            "deliveries": self.deliveries,
            "seconds": self.seconds,
            "deliveries_per_second": self.per_second,
            "latency_ms": None if self.latency is None else asdict(self.latency),
            "cpu_seconds_per_1000": self.cpu_per_1k,
            "peak_rss_mb": self.peak_rss_mb,
            "usage": usage,
            "verified": self.verified,
            "details": self.details,
        }
