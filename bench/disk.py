"""The disk's own sync latency: the floor under a durable create's latency.

A create is answered after its group's commit, and with ``synchronous=FULL`` a commit syncs
SQLite's WAL to disk (``fsync``), so no create is answered faster than the disk syncs, and a
create that arrives while its predecessor's group syncs waits for that sync and its own. This
appends 4 KiB and syncs, ``count`` times, in the directory the database lives in, with nothing
else of hookd running: the same-run baseline the create API's open-loop latency is read against.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.measure import LatencySummary, summarize_latencies

BLOCK = b"\0" * 4096


def sync_latencies(directory: Path, count: int = 1_000) -> LatencySummary:
    """p50, p90, p99 and max of ``count`` append-and-``fsync`` rounds on one new file."""
    path = directory / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    seconds: list[float] = []
    try:
        for _ in range(count):
            os.write(fd, BLOCK)
            started = time.perf_counter()
            os.fsync(fd)
            seconds.append(time.perf_counter() - started)
    finally:
        os.close(fd)
        path.unlink()
    return summarize_latencies(seconds)
