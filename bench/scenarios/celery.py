"""The status quo: Celery (Redis broker, 2 prefork processes) + requests, one task per delivery."""

from __future__ import annotations

import base64
import os
import time

import psutil
import redis

from bench.measure import TreeSampler, summarize_latencies
from bench.model import ScenarioResult
from bench.procs import free_ports, python_module, run_to_end, spawn, stop
from bench.records import read_records
from bench.scenarios.common import RunContext
from bench.sink import NginxSink

NAME = "celery"
BROKER = "redis://127.0.0.1:6379/15"
QUEUE = "bench-deliveries"


def redis_server_pids() -> list[int]:
    """The broker's processes (read-only: their CPU and RSS count for Celery)."""
    return [
        proc.pid for proc in psutil.process_iter(["name"]) if proc.info["name"] == "redis-server"
    ]


def run(ctx: RunContext) -> ScenarioResult:
    sizes = ctx.sizes
    count = sizes.celery_deliveries
    workdir = ctx.workdir / NAME
    workdir.mkdir(parents=True, exist_ok=True)
    ready = workdir / "worker.ready"
    out = workdir / "enqueued.txt"
    redis.Redis.from_url(BROKER).flushdb()  # db 15 belongs to the benchmark
    env = {
        "BENCH_CELERY_BROKER": BROKER,
        "BENCH_CELERY_QUEUE": QUEUE,
        "BENCH_CELERY_READY": str(ready),
        "BENCH_CELERY_SECRET": base64.b64encode(os.urandom(24)).decode(),
    }
    worker_args = ["-A", "bench.celery_app", "worker", "--pool", "prefork", "--concurrency", "2"]
    worker_args += ["--loglevel", "WARNING", "--without-gossip", "--without-mingle"]
    worker_args += ["--without-heartbeat", "-Q", QUEUE, "-n", f"bench-{os.getpid()}@localhost"]
    with NginxSink(workdir / "sink", free_ports(sizes.endpoints)) as sink:
        worker = spawn(python_module("celery", *worker_args), log=workdir / "worker.log", env=env)
        try:
            deadline = time.monotonic() + 60
            while not ready.exists():
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the Celery worker did not become ready")
                time.sleep(0.1)
            sampler = TreeSampler({"celery": [worker.pid], "redis": redis_server_pids()})
            sink_sampler = TreeSampler({"sink": [sink.pid]})
            sampler.start()
            sink_sampler.start()
            urls = [arg for url in sink.urls() for arg in ("--url", url)]
            producer = spawn(
                python_module(
                    "bench.celery_producer", *urls, "--count", str(count), "--out", str(out)
                ),
                log=workdir / "producer.log",
                env=env,
            )
            run_to_end(producer, timeout=600, what="celery producer")
            complete = sink.wait_for(count, timeout=600)
            usage = sampler.stop()
            sink_usage = sink_sampler.stop()
        finally:
            stop(worker, grace=15)
            redis.Redis.from_url(BROKER).flushdb()  # leave db 15 as we found it: empty
    records = read_records(out)
    arrivals = [a for a in sink.log.arrivals if a.status == 204]
    span = max(a.at for a in arrivals) - records.first_sent if arrivals else 0.0
    latencies = [a.at - records.sent[a.webhook_id] for a in arrivals]
    ok = complete and len(arrivals) == count
    return ScenarioResult(
        name=NAME,
        summary=(
            f"Celery {count} tasks (.delay), Redis db 15, --concurrency 2 prefork, "
            "HMAC + requests.Session"
        ),
        deliveries=len(arrivals),
        seconds=span,
        latency=summarize_latencies(latencies),
        usage=usage,
        verified=f"{'ok' if ok else 'MISMATCH'}: {len(arrivals)} received, {count} enqueued",
        details={
            "sink_cpu_seconds": sink_usage.cpu_seconds,
            "producer_cpu_seconds": records.summary.get("cpu_seconds"),
            "enqueue_seconds": records.summary.get("finished", 0)
            - records.summary.get("started", 0),
        },
    )
