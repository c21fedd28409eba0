"""What telemetry costs on the delivery path: the ``hookd-1p`` load with the telemetry on and
with the no-op, same run.

The "on" server runs with :data:`TELEMETRY_ON`: metrics, the log stream at info in JSON (one
access line per request) and OpenTelemetry traces at their default sampling, exported over
OTLP/HTTP to a sink in this process that answers 200; the "off" one with :data:`TELEMETRY_OFF`
(the telemetry seam's no-op, logs at warning, no tracing).
``HOOKD_BENCH_TELEMETRY_ON`` and ``HOOKD_BENCH_TELEMETRY_OFF`` (``NAME=value,...``) replace
them without editing this file. Full mode runs off, on, on, off (a drift of the machine's load
weighs on both alike), ``--quick`` one of each. The row is the "on" runs; the targets: deliveries
per second on over off >= 0.95, CPU seconds per delivery on over off <= 1.05.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.model import ScenarioResult
from bench.scenarios.common import HookdRun, RunContext, hookd_result, run_hookd_load

NAME = "telemetry"
# Every instrument on, and every one off. The traces' endpoint is the sink's (``_otlp_sink``).
TELEMETRY_ON: dict[str, str] = {
    "HOOKD_METRICS": "true",
    "HOOKD_LOG_LEVEL": "info",
    "HOOKD_LOG_FORMAT": "json",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
}
TELEMETRY_OFF: dict[str, str] = {"HOOKD_METRICS": "false", "HOOKD_LOG_LEVEL": "warning"}


class _Accept(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver that reads each export and answers 200 with an empty response
    (an empty ``ExportTraceServiceResponse``)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


@contextmanager
def _otlp_sink() -> Iterator[str]:
    """A local OTLP/HTTP traces endpoint for the "on" runs, for as long as the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Accept)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
    finally:
        server.shutdown()
        server.server_close()


def _settings(variable: str, default: dict[str, str]) -> dict[str, str]:
    given = os.environ.get(variable)
    if not given:
        return dict(default)
    pairs = (item.partition("=") for item in given.split(",") if item.strip())
    return {name.strip(): value.strip() for name, _, value in pairs}


def _cpu_per_1k(runs: list[HookdRun]) -> float:
    cpu = sum(run.usage.cpu_seconds for run in runs)
    deliveries = sum(len(run.healthy_arrivals()) for run in runs)
    return cpu / deliveries * 1000 if deliveries else float("nan")


def _rate(runs: list[HookdRun]) -> float:
    deliveries = sum(len(run.healthy_arrivals()) for run in runs)
    seconds = sum(run.span() for run in runs)
    return deliveries / seconds if seconds else float("nan")


def run(ctx: RunContext) -> ScenarioResult:
    sizes = ctx.sizes
    settings = {
        "on": _settings("HOOKD_BENCH_TELEMETRY_ON", TELEMETRY_ON),
        "off": _settings("HOOKD_BENCH_TELEMETRY_OFF", TELEMETRY_OFF),
    }
    order = ["off", "on"] if ctx.quick else ["off", "on", "on", "off"]
    runs: dict[str, list[HookdRun]] = {"on": [], "off": []}
    with _otlp_sink() as traces_url:
        if "HOOKD_BENCH_TELEMETRY_ON" not in os.environ:
            settings["on"]["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = traces_url
        for i, kind in enumerate(order):
            runs[kind].append(
                run_hookd_load(
                    ctx.workdir / f"{NAME}-{kind}-{i}",
                    messages=sizes.hookd_messages,
                    healthy=sizes.endpoints,
                    concurrency=sizes.api_concurrency,
                    env={"HOOKD_DELIVERY_PROCESSES": "1", **settings[kind]},
                )
            )
    summary = (
        f"hookd-1p's load ({sizes.hookd_messages} messages x {sizes.endpoints} endpoints) with "
        f"telemetry on ({settings['on']}) vs the no-op ({settings['off']}), runs "
        f"{', '.join(order)}; the row: the last run with telemetry on"
    )
    result = hookd_result(NAME, summary, runs["on"][-1])
    on_cpu, off_cpu = _cpu_per_1k(runs["on"]), _cpu_per_1k(runs["off"])
    on_rate, off_rate = _rate(runs["on"]), _rate(runs["off"])
    result.details.update(
        {
            "order": order,
            "settings": settings,
            "on_deliveries_per_s": on_rate,
            "off_deliveries_per_s": off_rate,
            "on_vs_off_deliveries_per_s": on_rate / off_rate if off_rate else float("nan"),
            "on_cpu_seconds_per_1000": on_cpu,
            "off_cpu_seconds_per_1000": off_cpu,
            "on_vs_off_cpu": on_cpu / off_cpu if off_cpu else float("nan"),
            "per_run_cpu_seconds_per_1000": {
                kind: [_cpu_per_1k([r]) for r in kind_runs] for kind, kind_runs in runs.items()
            },
            "per_run_deliveries_per_s": {
                kind: [_rate([r]) for r in kind_runs] for kind, kind_runs in runs.items()
            },
            "verified_all": [hookd_result(k, "", r).verified for k in runs for r in runs[k]],
        }
    )
    bad = [v for v in result.details["verified_all"] if not v.startswith("ok")]
    if bad:
        result.verified = f"MISMATCH in {len(bad)} of {len(order)} runs: {bad[0]}"
    return result
