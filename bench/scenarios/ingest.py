"""ingest: verified Stripe-style requests per second accepted by hookd vs a bare Starlette 200.

Both targets get the same load generator with the same options in the same run, one after the
other: first the bare endpoint, then ``hookd serve`` (fresh SQLite file, one ``stripe`` source, no
forwarding endpoint), where every request is verified (HMAC-SHA256 over ``t.body`` with a
timestamp check), stored with its message and answered 200 only after the commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench.hookd_server import HookdServer
from bench.measure import TreeSampler, Usage
from bench.model import ScenarioResult
from bench.procs import free_port, python_module, run_to_end, spawn, stop, wait_http_ok
from bench.scenarios.common import RunContext

NAME = "ingest"
SECRET = "whsec_bench_ingest_secret"
TARGET_RATIO = 0.5


@dataclass(frozen=True, slots=True)
class Load:
    """One closed-loop run of the ingest load generator against one target."""

    ok: int
    warmup_ok: int
    statuses: dict[str, int]
    seconds: float
    usage: Usage
    loadgen_cpu_seconds: float

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        """CPU of the target's processes per answered request: steadier than rates on a shared
        machine."""
        return self.usage.cpu_seconds / self.ok * 1000 if self.ok else 0.0


def _load(workdir: Path, url: str, pid: int, *, count: int, concurrency: int) -> Load:
    """Run the load generator against ``url`` while sampling the process tree of ``pid``."""
    out = workdir / "loadgen.json"
    sampler = TreeSampler({"target": [pid]})
    sampler.start()
    loadgen = spawn(
        python_module(
            "bench.ingest_loadgen",
            "--url", url,
            "--secret", SECRET,
            "--count", str(count),
            "--concurrency", str(concurrency),
            "--run-id", uuid.uuid4().hex[:8],
            "--deadline", "600",
            "--out", str(out),
        ),
        log=workdir / "loadgen.log",
    )  # fmt: skip
    try:
        run_to_end(loadgen, timeout=660, what="ingest load generator")
    finally:
        usage = sampler.stop()
    summary = orjson.loads(out.read_bytes())
    return Load(
        ok=summary["ok"],
        warmup_ok=summary["warmup_ok"],
        statuses=summary["statuses"],
        seconds=summary["finished"] - summary["started"],
        usage=usage,
        loadgen_cpu_seconds=summary["cpu_seconds"],
    )


def _bare(workdir: Path, count: int, concurrency: int) -> Load:
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = spawn(python_module("bench.bare_app", "--port", str(port)), log=workdir / "bare.log")
    try:
        wait_http_ok(f"http://127.0.0.1:{port}/health", timeout=60, proc=server)
        url = f"http://127.0.0.1:{port}/in/bench"
        return _load(workdir, url, server.pid, count=count, concurrency=concurrency)
    finally:
        stop(server)


def _hookd(workdir: Path, count: int, concurrency: int) -> tuple[Load, int, int]:
    """The load against hookd, and the accepted requests and messages found in SQLite after."""
    server = HookdServer(workdir / "hookd")
    try:
        server.start()
        url = server.create_source("bench-stripe", "stripe", {"secret": SECRET})
        load = _load(workdir, url, server.pid, count=count, concurrency=concurrency)
    finally:
        server.stop()
    accepted = server.count_rows("inbound_requests", "outcome = 'accepted'")
    messages = server.count_rows("messages")
    return load, accepted, messages


def run(ctx: RunContext) -> ScenarioResult:
    count, concurrency = ctx.sizes.ingest_requests, ctx.sizes.ingest_concurrency
    workdir = ctx.workdir / NAME
    bare = _bare(workdir / "bare", count, concurrency)
    hookd, accepted, messages = _hookd(workdir, count, concurrency)
    # The warm-up requests are stored too.
    stored = hookd.ok + hookd.warmup_ok
    ok = hookd.ok == count and accepted == messages == stored
    ratio = hookd.per_second / bare.per_second if bare.per_second else 0.0
    return ScenarioResult(
        name=NAME,
        summary=(
            f"hookd serve (SQLite), one stripe source, no forwarding endpoint: {count} signed "
            f"1 KiB events (concurrency {concurrency}) verified, stored and answered 200; "
            f"bare Starlette 200 with the same load: {bare.per_second:,.0f}/s; "
            f"hookd/bare {ratio:.2f}x; CPU per request: hookd {hookd.cpu_ms_per_request:.2f} ms, "
            f"bare {bare.cpu_ms_per_request:.2f} ms"
        ),
        deliveries=hookd.ok,
        seconds=hookd.seconds,
        usage=hookd.usage,
        verified=(
            f"{'ok' if ok else 'MISMATCH'}: {hookd.ok} of {count} timed requests answered 2xx; "
            f"{accepted} accepted requests and {messages} messages in SQLite, {stored} expected "
            "(with the warm-up)"
        ),
        details={
            "hookd_per_second": hookd.per_second,
            "hookd_statuses": hookd.statuses,
            "bare_per_second": bare.per_second,
            "bare_statuses": bare.statuses,
            "bare_seconds": bare.seconds,
            "bare_cpu_seconds": bare.usage.cpu_seconds,
            "hookd_cpu_ms_per_request": hookd.cpu_ms_per_request,
            "bare_cpu_ms_per_request": bare.cpu_ms_per_request,
            "bare_peak_rss_mb": bare.usage.peak_rss_bytes / (1024 * 1024),
            "ratio_vs_bare": ratio,
            "target_ratio": TARGET_RATIO,
            "concurrency": concurrency,
            "loadgen_cpu_seconds": hookd.loadgen_cpu_seconds,
            "bare_loadgen_cpu_seconds": bare.loadgen_cpu_seconds,
        },
    )
