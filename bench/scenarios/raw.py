"""The raw ceiling: one aiohttp process signing and POSTing, no persistence."""

from __future__ import annotations

from bench.measure import TreeSampler, summarize_latencies
from bench.model import ScenarioResult
from bench.procs import free_ports, python_module, run_to_end, spawn
from bench.records import read_records
from bench.scenarios.common import RunContext
from bench.sink import NginxSink

NAME = "raw"
CONCURRENCY = 256


def run(ctx: RunContext) -> ScenarioResult:
    sizes = ctx.sizes
    workdir = ctx.workdir / NAME
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / "sent.txt"
    with NginxSink(workdir / "sink", free_ports(sizes.endpoints)) as sink:
        urls = [arg for url in sink.urls() for arg in ("--url", url)]
        sender = spawn(
            python_module(
                "bench.raw_sender",
                *urls,
                "--count", str(sizes.raw_deliveries),
                "--concurrency", str(CONCURRENCY),
                "--out", str(out),
            ),
            log=workdir / "sender.log",
        )  # fmt: skip
        sampler = TreeSampler({"sender": [sender.pid]})
        sink_sampler = TreeSampler({"sink": [sink.pid]})
        sampler.start()
        sink_sampler.start()
        run_to_end(sender, timeout=600, what="raw sender")
        usage = sampler.stop()
        complete = sink.wait_for(sizes.raw_deliveries, timeout=30)
        sink_usage = sink_sampler.stop()
    records = read_records(out)
    arrivals = [a for a in sink.log.arrivals if a.status == 204]
    span = max(a.at for a in arrivals) - records.first_sent if arrivals else 0.0
    latencies = [a.at - records.sent[a.webhook_id] for a in arrivals]
    ok = complete and len(arrivals) == sizes.raw_deliveries
    return ScenarioResult(
        name=NAME,
        summary=(
            f"one aiohttp process (uvloop), {sizes.raw_deliveries} signed 1 KiB POSTs, "
            f"concurrency {CONCURRENCY}, {sizes.endpoints} sink ports"
        ),
        deliveries=len(arrivals),
        seconds=span,
        latency=summarize_latencies(latencies),
        usage=usage,
        verified=f"{'ok' if ok else 'MISMATCH'}: {len(arrivals)} received, "
        f"{sizes.raw_deliveries} sent, {records.summary.get('errors', '?')} errors",
        details={"sink_cpu_seconds": sink_usage.cpu_seconds, "concurrency": CONCURRENCY},
    )
