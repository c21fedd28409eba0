"""The create API by itself: keyed creates per second with no endpoint to deliver to, then the
latency at half that rate.

``hookd serve`` in its default configuration (SQLite), one application and no endpoint, so a
create is the request, its validation, the idempotency key and the group commit, nothing else.
First a closed loop: 32 producers sending the svix SDK's request (``bench.loadgen --svix``)
as fast as answers come (the rate); then an open loop at half the rate measured (the latency,
p50 and p99 of the API's answers). The row is the closed loop; ``details`` has the open loop,
and two floors measured in the same run: the disk's own sync latency just before it in the
database's directory (``bench.disk``: a durable create cannot be answered faster than its
commit's sync), and the same open loop against a bare Starlette endpoint answering 201 at once
(``bench.bare_app``: what the load generator, uvicorn and the loopback cost by themselves on
the same cores). The open loop's creates are also timed inside the server, from its access lines
(``duration_ms``: from the request reaching the application to its answer), so the time a
request waits before the server reads it shows as the difference.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import orjson

from bench.disk import sync_latencies
from bench.hookd_server import TOKEN, HookdServer
from bench.measure import TreeSampler, Usage, summarize_latencies
from bench.model import ScenarioResult
from bench.procs import free_port, python_module, run_to_end, spawn, stop, wait_http_ok
from bench.records import ProducerRecords, read_records
from bench.scenarios.common import RunContext

NAME = "create-api"
# The open loop: at most this many requests in flight before starts are late.
MAX_IN_FLIGHT = 256


def _load(
    server: HookdServer | _Bare,
    app_id: str,
    out: Path,
    *,
    count: int,
    concurrency: int,
    rate: float,
) -> tuple[ProducerRecords, Usage]:
    sampler = TreeSampler({"hookd": [server.pid]})
    sampler.start()
    deadline = 300.0
    loadgen = spawn(
        python_module(
            "bench.loadgen",
            "--base-url", server.base_url,
            "--token", TOKEN,
            "--app", app_id,
            "--count", str(count),
            "--concurrency", str(concurrency),
            "--rate", str(rate),
            "--deadline", str(deadline),
            "--out", str(out),
            "--svix",
        ),
        log=out.with_suffix(".log"),
    )  # fmt: skip
    run_to_end(loadgen, timeout=deadline + 60, what="load generator")
    return read_records(out), sampler.stop()


class _Bare:
    """``bench.bare_app`` on a port of its own, for the open loop's floor."""

    def __init__(self, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self._proc = spawn(
            python_module("bench.bare_app", "--port", str(port)), log=workdir / "bare.log"
        )
        self.pid = self._proc.pid
        wait_http_ok(f"{self.base_url}/health", timeout=60, proc=self._proc)

    def stop(self) -> None:
        stop(self._proc)


def _served_ms(log: Path, last: int) -> list[float]:
    """The ``duration_ms`` of the last ``last`` creates the server's access lines report."""
    durations = []
    for line in log.read_bytes().splitlines():
        if b'"request served"' not in line:
            continue
        entry = orjson.loads(line)
        if entry.get("method") == "POST" and str(entry.get("route", "")).endswith("/msg"):
            durations.append(float(entry["duration_ms"]))
    return durations[-last:] if last else []


def _span(records: ProducerRecords) -> float:
    return max(records.answered.values(), default=0.0) - records.first_sent


def run(ctx: RunContext) -> ScenarioResult:
    sizes = ctx.sizes
    workdir = ctx.workdir / NAME
    server = HookdServer(workdir / "hookd")
    try:
        server.start()
        app_id = server.create_app("bench")
        closed, usage = _load(
            server,
            app_id,
            workdir / "closed.txt",
            count=sizes.create_requests,
            concurrency=sizes.api_concurrency,
            rate=0.0,
        )
        seconds = _span(closed)
        rate = len(closed.sent) / seconds if seconds > 0 else 0.0
        half = max(rate / 2, 1.0)
        count = int(half * sizes.create_open_loop_seconds)
        disk = sync_latencies(server.workdir)
        opened, open_usage = _load(
            server, app_id, workdir / "open.txt", count=count, concurrency=MAX_IN_FLIGHT, rate=half
        )
    finally:
        server.stop()
    bare = _Bare(workdir / "bare")
    try:
        floor, _ = _load(
            bare,
            "app_bare",
            workdir / "floor.txt",
            count=count,
            concurrency=MAX_IN_FLIGHT,
            rate=half,
        )
    finally:
        bare.stop()
    floor_latency = [floor.answered[k] - floor.sent[k] for k in floor.sent]
    served = _served_ms(server.workdir / "hookd.log", len(opened.sent))
    stored = server.count_rows("messages")
    answered = len(closed.sent) + len(opened.sent)
    failures = closed.failures + opened.failures
    verified = (
        f"{'ok' if stored == answered and not failures else 'MISMATCH'}: {answered} creates "
        f"answered 201, {stored} messages stored, {failures} failed"
    )
    closed_latency = [closed.answered[k] - closed.sent[k] for k in closed.sent]
    open_latency = [opened.answered[k] - opened.sent[k] for k in opened.sent]
    open_seconds = _span(opened)
    return ScenarioResult(
        name=NAME,
        summary=(
            f"keyed creates (the svix SDK's request) with no endpoint: {sizes.create_requests} "
            f"in a closed loop at concurrency {sizes.api_concurrency}, then "
            f"{sizes.create_open_loop_seconds:g} s open loop at half the rate measured"
        ),
        deliveries=len(closed.sent),
        seconds=seconds,
        latency=summarize_latencies(closed_latency),
        usage=usage,
        verified=verified,
        details={
            "open_loop_rate": half,
            "open_loop_achieved_per_s": len(opened.sent) / open_seconds if open_seconds else 0.0,
            "open_loop_latency_ms": asdict(summarize_latencies(open_latency)),
            "open_loop_late_starts": opened.summary.get("late", 0),
            "open_loop_cpu_seconds": open_usage.cpu_seconds,
            "disk_sync_ms": asdict(disk),
            "floor_open_loop_latency_ms": asdict(summarize_latencies(floor_latency)),
            "open_loop_in_server_ms": asdict(summarize_latencies([ms / 1000 for ms in served])),
            "loadgen_cpu_seconds": closed.summary.get("cpu_seconds"),
        },
    )
