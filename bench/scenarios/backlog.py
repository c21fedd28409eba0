"""A big backlog: hookd starts on a SQLite file holding N pending deliveries and drains it."""

from __future__ import annotations

import time

from bench.backlog import build_backlog
from bench.hookd_server import HookdServer
from bench.measure import TreeSampler
from bench.model import MIB, ScenarioResult
from bench.procs import free_ports
from bench.scenarios.common import RunContext
from bench.sink import NginxSink

NAME = "backlog"
TIMELINE_STEP = 5.0


def run(ctx: RunContext) -> ScenarioResult:
    sizes = ctx.sizes
    workdir = ctx.workdir / NAME
    window = sizes.backlog_window
    server = HookdServer(workdir / "hookd")
    timeline: list[tuple[float, int]] = []
    with NginxSink(workdir / "sink", free_ports(sizes.endpoints)) as sink:
        server.workdir.mkdir(parents=True, exist_ok=True)
        backlog = build_backlog(server.db_path, messages=sizes.backlog_messages, urls=sink.urls())
        try:
            server.launch()
            sampler = TreeSampler({"hookd": [server.pid]})
            sampler.start()
            ready_seconds = server.wait_ready(timeout=window)
            end = server.launched_at + window
            while (now := time.time()) < end:
                time.sleep(min(TIMELINE_STEP, end - now))
                timeline.append((round(time.time() - server.launched_at, 1), sink.log.poll()))
            usage = sampler.stop()
            final_rss = usage.rss_timeline[-1][1] if usage.rss_timeline else 0
        finally:
            server.stop()
    delivered = sum(1 for a in sink.log.arrivals if a.at <= end and a.status == 204)
    after_ready = sum(
        1 for a in sink.log.arrivals if server.launched_at + ready_seconds <= a.at <= end
    )
    outcome = server.stored_outcome()
    stored = outcome.successful_attempts
    ok = stored >= delivered
    return ScenarioResult(
        name=NAME,
        summary=(
            f"{sizes.backlog_messages:,} pending deliveries inserted with SQL, then hookd serve "
            f"drains for {window:g} s (rate counted from process start)"
        ),
        deliveries=delivered,
        seconds=window,
        usage=usage,
        verified=f"{'ok' if ok else 'MISMATCH'}: {stored} successful attempts in SQLite, "
        f"{delivered} received in the window",
        details={
            "backlog_insert_seconds": backlog.seconds,
            "db_megabytes": backlog.db_bytes / MIB,
            "ready_seconds": ready_seconds,
            "drain_per_second_after_ready": after_ready / max(window - ready_seconds, 1e-9),
            "rss_mb_at_end_of_window": final_rss / MIB,
            "arrivals_timeline": timeline,
            "deliveries_by_status_after_stop": outcome.deliveries_by_status,
        },
    )
