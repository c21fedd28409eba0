"""What a scenario measures: CPU seconds and peak RSS of the system under test, and latencies.

CPU is the sum of user + system time of every process in the system-under-test trees between
``start()`` and ``stop()``; RSS is sampled every ``interval`` seconds and summed over the same
processes, and the peak of those sums is kept. The load generator and the sink are never in these
trees: they are measured separately (``observers``) only so their cost can be shown.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import psutil

SAMPLE_INTERVAL = 0.1


@dataclass(slots=True)
class Usage:
    """CPU and memory of one group of process trees over a measured window."""

    cpu_seconds: float = 0.0
    peak_rss_bytes: int = 0
    by_role: dict[str, float] = field(default_factory=dict)
    rss_timeline: list[tuple[float, int]] = field(default_factory=list)
    # The whole machine over the same window: to see how much else was running (shared hosts).
    machine_busy_seconds: float = 0.0
    window_seconds: float = 0.0


def _machine_busy() -> float:
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


class TreeSampler:
    """Samples CPU time and RSS of process trees (by role) on a background thread."""

    def __init__(self, roots: Mapping[str, Sequence[int]], interval: float = SAMPLE_INTERVAL):
        self._roots = {role: list(pids) for role, pids in roots.items()}
        self._interval = interval
        self._procs: dict[int, tuple[str, psutil.Process]] = {}
        self._baseline: dict[int, float] = {}
        self._latest: dict[int, float] = {}
        self._peak_rss = 0
        self._timeline: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-sampler", daemon=True)
        self._started_at = 0.0
        self._machine_at_start = 0.0

    def _tree(self) -> Iterable[tuple[str, psutil.Process]]:
        for role, pids in self._roots.items():
            for pid in pids:
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                    root = psutil.Process(pid)
                    yield role, root
                    for child in root.children(recursive=True):
                        yield role, child

    def _sample(self, *, first: bool = False) -> None:
        rss = 0
        for role, proc in list(self._tree()):
            try:
                cpu = _cpu(proc)
                rss += int(proc.memory_info().rss)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            if proc.pid not in self._procs:
                self._procs[proc.pid] = (role, proc)
                # A process born inside the window counts from zero; one alive at start, from now.
                self._baseline[proc.pid] = cpu if first else 0.0
            self._latest[proc.pid] = cpu
        self._peak_rss = max(self._peak_rss, rss)
        self._timeline.append((time.monotonic() - self._started_at, rss))

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def start(self) -> None:
        self._started_at = time.monotonic()
        self._machine_at_start = _machine_busy()
        self._sample(first=True)
        self._thread.start()

    def stop(self) -> Usage:
        self._stop.set()
        self._thread.join()
        self._sample()
        by_role: dict[str, float] = {}
        for pid, (role, _) in self._procs.items():
            spent = self._latest.get(pid, 0.0) - self._baseline.get(pid, 0.0)
            by_role[role] = by_role.get(role, 0.0) + max(spent, 0.0)
        return Usage(
            cpu_seconds=sum(by_role.values()),
            peak_rss_bytes=self._peak_rss,
            by_role=by_role,
            rss_timeline=self._timeline,
            machine_busy_seconds=_machine_busy() - self._machine_at_start,
            window_seconds=time.monotonic() - self._started_at,
        )


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True, slots=True)
class LatencySummary:
    count: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float


def summarize_latencies(seconds: Sequence[float]) -> LatencySummary:
    millis = [value * 1000 for value in seconds]
    return LatencySummary(
        count=len(millis),
        p50_ms=percentile(millis, 50),
        p90_ms=percentile(millis, 90),
        p99_ms=percentile(millis, 99),
        max_ms=max(millis) if millis else math.nan,
    )
