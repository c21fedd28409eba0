"""Pieces every hookd scenario shares: sink + server + load generator, measured as one run."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.hookd_server import TOKEN, HookdServer, StoredOutcome
from bench.measure import TreeSampler, Usage, summarize_latencies
from bench.model import ScenarioResult
from bench.procs import free_ports, python_module, run_to_end, spawn, stop
from bench.profiler import PySpy
from bench.records import ProducerRecords, read_records
from bench.sink import Arrival, NginxSink
from bench.sizes import Sizes
from hookd.ids import id_time


@dataclass(slots=True)
class RunContext:
    """What the command line decided, shared by every scenario."""

    sizes: Sizes
    workdir: Path
    results_dir: Path
    quick: bool
    previous: dict[str, object] = field(default_factory=dict)


@dataclass(slots=True)
class HookdRun:
    """The measured outcome of one load against one ``hookd serve``."""

    arrivals: list[Arrival]
    records: ProducerRecords
    usage: Usage
    sink_usage: Usage
    outcome: StoredOutcome
    expected: int
    complete: bool
    healthy_ports: list[int]

    def healthy_arrivals(self) -> list[Arrival]:
        ports = set(self.healthy_ports)
        return [a for a in self.arrivals if a.port in ports and a.status == 204]

    def span(self) -> float:
        """First create sent -> last delivery received, in seconds."""
        arrivals = self.healthy_arrivals()
        if not arrivals:
            return 0.0
        return max(a.at for a in arrivals) - self.records.first_sent

    def accepted_latencies(self) -> list[float]:
        """Arrival minus the moment hookd accepted the message (the time inside its id)."""
        accepted = {msg_id: id_time(msg_id).timestamp() for msg_id in self.records.sent}
        return [a.at - accepted[a.webhook_id] for a in self.healthy_arrivals()]

    def answered_latencies(self) -> list[float]:
        """Arrival minus the moment the producer read the 201 (can be negative: see README)."""
        answered = self.records.answered
        return [a.at - answered[a.webhook_id] for a in self.healthy_arrivals()]

    def api_latencies(self) -> list[float]:
        sent, answered = self.records.sent, self.records.answered
        return [answered[key] - sent[key] for key in sent]


def run_hookd_load(
    workdir: Path,
    *,
    messages: int,
    healthy: int,
    hung: int = 0,
    concurrency: int,
    rate: float = 0.0,
    env: dict[str, str] | None = None,
    settle_timeout: float = 120.0,
    profile: tuple[Path, Path] | None = None,
    database_url: str | None = None,
    workers: int = 0,
    module: str = "hookd.cli",
    svix: bool = False,
) -> HookdRun:
    """Start sink(s) and hookd, create ``messages`` through the API, wait for every delivery.

    With ``workers``, the server runs ``--role api`` and that many ``--role worker`` processes
    share its database (PostgreSQL) and deliver.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    ports = free_ports(healthy + hung)
    healthy_ports, hung_ports = ports[:healthy], ports[healthy:]
    blackhole = None
    load_seconds = messages / rate if rate > 0 else 600.0
    if hung_ports:
        args = [arg for port in hung_ports for arg in ("--port", str(port))]
        life = str(load_seconds + settle_timeout + 120)
        blackhole = spawn(
            python_module("bench.blackhole", *args, "--max-seconds", life),
            log=workdir / "blackhole.log",
        )
    sink = NginxSink(workdir / "sink", healthy_ports)
    roles = {"HOOKD_ROLE": "api"} if workers else {}
    server = HookdServer(
        workdir / "hookd", env={**(env or {}), **roles}, database_url=database_url, module=module
    )
    delivering = [
        HookdServer(
            workdir / f"worker{n}", env={**(env or {}), "HOOKD_ROLE": "worker"},
            database_url=database_url,
        )
        for n in range(workers)
    ]  # fmt: skip
    spy: PySpy | None = None
    try:
        sink.start()
        server.start()
        for worker in delivering:
            worker.launch()
        app_id = server.create_app("bench")
        for port in ports:
            server.create_endpoint(app_id, f"http://127.0.0.1:{port}/")
        out = workdir / "loadgen.txt"
        sampler = TreeSampler({"hookd": [server.pid, *(w.pid for w in delivering)]})
        sink_sampler = TreeSampler({"sink": [sink.pid]})
        if profile is not None:
            spy = PySpy(server.pid, *profile, max_seconds=load_seconds + settle_timeout)
            spy.start()
            time.sleep(1.0)  # let py-spy attach before the load starts
        sampler.start()
        sink_sampler.start()
        loadgen = spawn(
            python_module(
                "bench.loadgen",
                "--base-url", server.base_url,
                "--token", TOKEN,
                "--app", app_id,
                "--count", str(messages),
                "--concurrency", str(concurrency),
                "--rate", str(rate),
                "--deadline", str(load_seconds + 120),
                "--out", str(out),
                *(["--svix"] if svix else []),
            ),
            log=workdir / "loadgen.log",
        )  # fmt: skip
        run_to_end(loadgen, timeout=load_seconds + 180, what="load generator")
        records = read_records(out)
        expected = len(records.sent) * healthy
        complete = sink.wait_for(expected, timeout=settle_timeout)
        usage = sampler.stop()
        sink_usage = sink_sampler.stop()
        if spy is not None:
            spy.stop()
            spy = None
    finally:
        if spy is not None:
            spy.stop()
        for worker in delivering:
            worker.stop()
        server.stop()
        sink.stop()
        if blackhole is not None:
            stop(blackhole)
    return HookdRun(
        arrivals=sink.log.arrivals,
        records=records,
        usage=usage,
        sink_usage=sink_usage,
        outcome=server.stored_outcome(),
        expected=expected,
        complete=complete,
        healthy_ports=healthy_ports,
    )


def hookd_result(name: str, summary: str, run: HookdRun) -> ScenarioResult:
    """The report row of a hookd run, with the verification and the side measurements."""
    arrivals = run.healthy_arrivals()
    stored = run.outcome.successful_attempts
    verified = (
        f"{'ok' if stored == run.expected and run.complete else 'MISMATCH'}: "
        f"{stored} successful attempts stored, {len(arrivals)} received, "
        f"{run.expected} expected"
    )
    return ScenarioResult(
        name=name,
        summary=summary,
        deliveries=len(arrivals),
        seconds=run.span(),
        latency=summarize_latencies(run.accepted_latencies()),
        usage=run.usage,
        verified=verified,
        details={
            "messages_created": len(run.records.sent),
            "create_failures": run.records.failures,
            "latency_from_201_ms": asdict(summarize_latencies(run.answered_latencies())),
            "api_create_latency_ms": asdict(summarize_latencies(run.api_latencies())),
            "attempts_by_status": run.outcome.attempts_by_status,
            "deliveries_by_status": run.outcome.deliveries_by_status,
            "sink_cpu_seconds": run.sink_usage.cpu_seconds,
            "loadgen_cpu_seconds": run.records.summary.get("cpu_seconds"),
            "late_starts": run.records.summary.get("late", 0),
            "complete": run.complete,
        },
    )
