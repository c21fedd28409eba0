"""metrics: a scraper reading /metrics during a mixed load sees every documented series move.

``hookd serve`` (fresh SQLite file, ``HOOKD_DELIVERY_PROCESSES=2`` so the children's metrics
files are summed into the answer, metrics on ``HOOKD_METRICS_ADDRESS``: no token) takes a load
that touches every documented series, while a thread scrapes the listener once a second:

- one application whose every message goes to eleven endpoints: nginx (succeeds), nginx through
  an identity transformation and through one that throws, a local server answering 500, 400,
  410 (the receiver disables the endpoint), 400 with ``webhook-delivery: abort-message`` (no
  retry), and one failing for the first seconds then answering 204 (its circuit opens, then
  closes), the blackhole (times out), a port nothing listens on (connection refused), and
  ``127.0.0.2`` (refused by the SSRF guard: it is created while the allow-list is
  ``127.0.0.0/8``, then the server restarts with ``127.0.0.1/32``, as an operator narrowing it);
- short retry settings (two retries a second apart, circuits open after 3 failures, endpoints
  disabled after 5 s of failure), so messages are exhausted, circuits open and the failing
  endpoints are disabled; an ``endpoint_disabled`` alert rule then opens issues;
- a burst of creates (a due backlog, claim rounds beside the hand-offs), synchronous calls,
  and a ``meta`` source receiving accepted, duplicate, rejected and handshake requests;
- a database outage: the benchmark holds SQLite's write lock longer than
  ``HOOKD_SQLITE_BUSY_TIMEOUT`` once, so group commits fail (and are counted) and the creates of
  that moment are answered 503.

The series are the rows of docs/observability.md's metrics table, read as
tests/unit/test_metrics.py reads them. A counter or histogram moved when its value (summed over
its label sets; a histogram's ``_count``) differs between the first and the last scrape; a gauge
when it took more than one value or was non-zero at some scrape. The run ends when every series
has moved, or a settle time after the load.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import sqlite3
import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

from bench.hookd_server import TOKEN, HookdServer
from bench.measure import TreeSampler
from bench.model import ScenarioResult
from bench.procs import REPO_ROOT, free_port, free_ports, python_module, spawn, stop
from bench.scenarios.common import RunContext
from bench.sink import NginxSink

NAME = "metrics"
DOCS = REPO_ROOT / "docs" / "observability.md"
SCRAPE_INTERVAL = 1.0
SETTLE_SECONDS = 20.0  # after the load, at most, for the last series to move
FLAKY_SECONDS = 2.0  # the flaky endpoint answers 500 this long after the load starts
BUSY_TIMEOUT = 3.0  # HOOKD_SQLITE_BUSY_TIMEOUT (a loaded machine needs more than 1 s)
LOCK_SECONDS = 4.5  # the outage: the write lock held this long
META_SECRET = "bench-meta-app-secret"
META_TOKEN = "bench-meta-verify-token"
IDENTITY = "function handler(request) { return request; }"
THROWS = "function handler(request) { throw new Error('bench'); }"
ENV = {
    "HOOKD_METRICS": "true",
    "HOOKD_DELIVERY_PROCESSES": "2",
    "HOOKD_REQUEST_TIMEOUT": "1",
    "HOOKD_RETRY_SCHEDULE": "1,1",
    "HOOKD_BREAKER_FAILURES": "3",
    "HOOKD_BREAKER_COOLDOWN": "1",
    "HOOKD_DISABLE_AFTER": "5",
    "HOOKD_ALERT_INTERVAL": "1",
    "HOOKD_SQLITE_BUSY_TIMEOUT": f"{BUSY_TIMEOUT:g}",
    "HOOKD_SHUTDOWN_GRACE": "1",
}


def documented_names(path: Path = DOCS) -> set[str]:
    """The metrics docs/observability.md documents (as tests/unit/test_metrics.py reads them)."""
    section = path.read_text().split("\n## Metrics\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(hookd_[a-z0-9_]+)`", section, flags=re.MULTILINE))


# -- the scraper -------------------------------------------------------------------------------


@dataclass(slots=True)
class Scrape:
    """One answer: each metric's value (counters by their ``_total`` name) and type, and its
    samples by label set."""

    at: float
    values: dict[str, float] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    labelled: dict[str, dict[str, float]] = field(default_factory=dict)


def parse(text: str, at: float) -> Scrape:
    scrape = Scrape(at)
    for family in text_string_to_metric_families(text):
        kind = family.type
        name = f"{family.name}_total" if kind == "counter" else family.name
        sample_name = f"{family.name}_count" if kind == "histogram" else name
        scrape.types[name] = kind
        labelled = scrape.labelled.setdefault(name, {})
        total = 0.0
        for sample in family.samples:
            if sample.name != sample_name:
                continue
            total += sample.value
            key = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            labelled[key] = labelled.get(key, 0.0) + sample.value
        scrape.values[name] = total
    return scrape


class Scraper:
    """Reads ``url`` every second in a thread of its own until stopped."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.scrapes: list[Scrape] = []
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scraper", daemon=True)

    def _once(self) -> None:
        try:
            with urllib.request.urlopen(self.url, timeout=10) as response:
                text = response.read().decode()
        except OSError:
            self.errors += 1
            return
        self.scrapes.append(parse(text, time.time()))

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self._once()
            self._stop.wait(max(0.0, SCRAPE_INTERVAL - (time.monotonic() - started)))

    def start(self) -> None:
        self._once()  # the first scrape is the baseline, before any load
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._once()  # the last scrape, after everything

    def cancel(self) -> None:
        """Stop without a last scrape (the run failed)."""
        self._stop.set()


def moved(scrapes: list[Scrape], name: str) -> bool:
    """Whether ``name`` moved across ``scrapes`` (module docstring)."""
    seen = [s.values[name] for s in scrapes if name in s.values]
    if not seen:
        return False
    kind = next(s.types[name] for s in scrapes if name in s.types)
    if kind == "gauge":
        return len(set(seen)) > 1 or any(v != 0 for v in seen)
    return seen[-1] != seen[0]


def moved_after(scrapes: list[Scrape], name: str) -> float | None:
    """Seconds from the first scrape to the first one at which ``name`` had moved."""
    for end in range(1, len(scrapes) + 1):
        if moved(scrapes[:end], name):
            return round(scrapes[end - 1].at - scrapes[0].at, 1)
    return None


def label_moves(scrapes: list[Scrape], name: str) -> dict[str, float]:
    """Counters and histograms: each label set's change, first to last scrape (those that
    changed). Gauges: each label set's largest value (those above 0)."""
    present = [s.labelled[name] for s in scrapes if name in s.labelled]
    if not present:
        return {}
    kind = next(s.types[name] for s in scrapes if name in s.types)
    if kind == "gauge":
        peaks: dict[str, float] = {}
        for labelled in present:
            for key, value in labelled.items():
                peaks[key] = max(peaks.get(key, 0.0), value)
        return {key: value for key, value in peaks.items() if value}
    first, last = present[0], present[-1]
    changes = {key: value - first.get(key, 0.0) for key, value in last.items()}
    return {key: change for key, change in changes.items() if change}


# -- the receivers -----------------------------------------------------------------------------


class Receiver:
    """A small HTTP server for the answers nginx does not give: ``/500``, ``/400``, ``/410``
    (the receiver disables the endpoint), ``/abort`` (400 with ``webhook-delivery:
    abort-message``: no retry) and ``/flaky`` (500 until ``flaky_until``, then 204)."""

    def __init__(self) -> None:
        self.flaky_until = float("inf")
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                fixed = {"/500": 500, "/400": 400, "/410": 410, "/abort": 400}
                if self.path == "/flaky":
                    status = 500 if time.time() < receiver.flaky_until else 204
                else:
                    status = fixed.get(self.path, 204)
                self.send_response(status)
                if self.path == "/abort":
                    self.send_header("webhook-delivery", "abort-message")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


# -- the load ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Setup:
    app_id: str
    calls_app: str
    called: str
    ingest_path: str  # /in/{token} of the meta source
    endpoints: dict[str, str]  # role -> endpoint id


def configure(
    server: HookdServer, sink: NginxSink, receiver: Receiver, ports: dict[str, int]
) -> Setup:
    """The applications, endpoints, source and alert rule (while 127.0.0.0/8 is allowed)."""
    ok = sink.urls()[0]
    app_id = server.create_app("metrics")
    targets: dict[str, tuple[str, dict[str, Any]]] = {
        "ok": (ok, {}),
        "transformed": (ok, {"transformation": {"code": IDENTITY, "enabled": True}}),
        "transformation_fails": (ok, {"transformation": {"code": THROWS, "enabled": True}}),
        "http_500": (receiver.url("/500"), {}),
        "http_400": (receiver.url("/400"), {}),
        "gone": (receiver.url("/410"), {}),
        "abort_message": (receiver.url("/abort"), {}),
        "flaky": (receiver.url("/flaky"), {}),
        "timeout": (f"http://127.0.0.1:{ports['blackhole']}/", {}),
        "connection_refused": (f"http://127.0.0.1:{ports['closed']}/", {}),
        "ssrf_refused": (f"http://127.0.0.2:{ports['closed']}/", {}),
    }
    endpoints = {
        role: server.create_endpoint(app_id, url, **fields)
        for role, (url, fields) in targets.items()
    }
    calls_app = server.create_app("metrics-calls")  # its endpoint gets calls only
    called = server.create_endpoint(calls_app, ok)
    ingest_url = server.create_source(
        "metrics-meta", "meta", {"secret": META_SECRET, "verifyToken": META_TOKEN}
    )
    server.call_api(
        "POST", "/api/v1/alert/rule", {"name": "endpoint disabled", "kind": "endpoint_disabled"}
    )
    return Setup(app_id, calls_app, called, urlsplit(ingest_url).path, endpoints)


class Load:
    """The mixed load, each part in a thread of its own; answers counted by status."""

    def __init__(
        self, server: HookdServer, setup: Setup, *, seconds: float, rate: float, burst: int
    ) -> None:
        self.server, self.setup = server, setup
        self.seconds, self.rate, self.burst_size = seconds, rate, burst
        self.statuses: dict[str, int] = {}
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._client = httpx.Client(
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=30,
            limits=httpx.Limits(max_connections=32),
        )
        self._public = httpx.Client(base_url=server.base_url, timeout=30)

    def _count(self, what: str, response: httpx.Response) -> None:
        with self._lock:
            key = f"{what} {response.status_code}"
            self.statuses[key] = self.statuses.get(key, 0) + 1

    def _guarded(self, part: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                part()
            except Exception as exc:  # reported in the row's details, not raised in a thread
                self.errors.append(f"{getattr(part, '__name__', part)}: {exc!r}")

        return run

    def create(self, n: int) -> None:
        body = {"eventType": "bench.metrics", "payload": {"n": n}}
        self._count("create", self._client.post(f"/api/v1/app/{self.setup.app_id}/msg", json=body))

    def messages(self) -> None:
        """``rate`` creates a second for ``seconds``, each started on time (open loop)."""
        started = time.monotonic()
        with ThreadPoolExecutor(16) as pool:
            for n in range(int(self.seconds * self.rate)):
                if self._stop.wait(max(0.0, started + n / self.rate - time.monotonic())):
                    return
                pool.submit(self._guarded(partial(self.create, self.burst_size + n)))

    def burst(self) -> None:
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(self.create, range(self.burst_size)))

    def calls(self) -> None:
        """A synchronous call every 2 s (a 503 while the database is busy records none)."""
        path = f"/api/v1/app/{self.setup.calls_app}/endpoint/{self.setup.called}/call"
        body = {"payload": {"bench": True}, "timeoutMs": 10000}
        started = time.monotonic()
        while time.monotonic() - started < self.seconds:
            self._count("call", self._client.post(path, json=body))
            if self._stop.wait(2.0):
                return

    def ingest(self) -> None:
        """Once a second: a handshake, an accepted request, its duplicate, a rejected one."""
        path, n, started = self.setup.ingest_path, 0, time.monotonic()
        challenge = {"hub.mode": "subscribe", "hub.verify_token": META_TOKEN, "hub.challenge": "7"}
        while not self._stop.wait(1.0 if n else 0.0):
            self._count("ingest handshake", self._public.get(path, params=challenge))
            body = orjson.dumps(
                {
                    "object": "page",
                    "entry": [{"id": "1", "changes": [{"field": "feed", "value": n}]}],
                }
            )
            digest = hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest()
            signed = {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}
            self._count("ingest", self._public.post(path, content=body, headers=signed))
            self._count("ingest again", self._public.post(path, content=body, headers=signed))
            forged = {**signed, "X-Hub-Signature-256": "sha256=" + "0" * 64}
            self._count("ingest forged", self._public.post(path, content=body, headers=forged))
            n += 1
            if time.monotonic() - started >= self.seconds:
                return

    def outage(self) -> None:
        """Hold SQLite's write lock past the busy timeout once, mid-load."""
        if self._stop.wait(self.seconds / 2):
            return
        conn = sqlite3.connect(self.server.db_path, isolation_level=None, timeout=30)
        try:
            conn.execute("BEGIN IMMEDIATE")
            time.sleep(LOCK_SECONDS)
            conn.execute("ROLLBACK")
        finally:
            conn.close()

    def run(self) -> list[threading.Thread]:
        parts = (self.burst, self.messages, self.calls, self.ingest, self.outage)
        threads = [threading.Thread(target=self._guarded(p), daemon=True) for p in parts]
        for thread in threads:
            thread.start()
        return threads

    def read_issues(self) -> None:
        """The API's view of the alert issues (one more kind of request, counted too)."""
        self._count("issues", self._client.get("/api/v1/alert/issue", params={"status": "open"}))

    def close(self) -> None:
        self._stop.set()
        self._client.close()
        self._public.close()


def run(ctx: RunContext) -> ScenarioResult:
    sizes = ctx.sizes
    workdir = ctx.workdir / NAME
    workdir.mkdir(parents=True, exist_ok=True)
    documented = documented_names()
    sink_port, blackhole_port, closed_port = free_ports(3)
    ports = {"blackhole": blackhole_port, "closed": closed_port}
    metrics_port = free_port()
    env = {**ENV, "HOOKD_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}"}
    sink = NginxSink(workdir / "sink", [sink_port])
    receiver = Receiver()
    life = str(sizes.metrics_seconds + SETTLE_SECONDS + 120)
    blackhole = spawn(
        python_module("bench.blackhole", "--port", str(blackhole_port), "--max-seconds", life),
        log=workdir / "blackhole.log",
    )
    server = HookdServer(workdir / "hookd", env=env)
    scraper = Scraper(f"http://127.0.0.1:{metrics_port}/metrics")
    load: Load | None = None
    try:
        sink.start()
        receiver.start()
        server.start()
        setup = configure(server, sink, receiver, ports)
        # 127.0.0.2 was allowed when its endpoint was made; from now on the guard refuses it.
        server.restart({"HOOKD_ALLOW_NETWORKS": "127.0.0.1/32"})
        sampler = TreeSampler({"hookd": [server.pid]})
        sampler.start()
        scraper.start()
        started = time.time()
        receiver.flaky_until = started + FLAKY_SECONDS
        load = Load(
            server,
            setup,
            seconds=sizes.metrics_seconds,
            rate=sizes.metrics_rate,
            burst=sizes.metrics_burst,
        )
        for thread in load.run():
            thread.join(sizes.metrics_seconds + 60)
        load_seconds = time.time() - started
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            if all(moved(scraper.scrapes, name) for name in documented):
                break
            time.sleep(SCRAPE_INTERVAL)
        load.read_issues()
        time.sleep(SCRAPE_INTERVAL * 1.5)  # let a scrape see that request
        scraper.stop()
        usage = sampler.stop()
        seconds = time.time() - started
    finally:
        scraper.cancel()
        if load is not None:
            load.close()
        server.stop()
        receiver.stop()
        sink.stop()
        stop(blackhole)
    scrapes = scraper.scrapes
    still = sorted(name for name in documented if not moved(scrapes, name))
    verified = (
        f"ok: all {len(documented)} documented series moved"
        if not still
        else f"MISMATCH: {len(still)} of {len(documented)} documented series did not move: "
        + ", ".join(still)
    )
    attempts = label_moves(scrapes, "hookd_delivery_attempts_total")
    deliveries = int(sum(v for k, v in attempts.items() if "outcome=success" in k.split(",")))
    summary = (
        f"a mixed load for {sizes.metrics_seconds:g} s ({sizes.metrics_rate:g} msg/s x 11 "
        f"endpoints, {sizes.metrics_burst} at once, calls, inbound requests, a "
        f"{LOCK_SECONDS:g} s database outage) on hookd with 2 delivery processes, /metrics "
        f"scraped every {SCRAPE_INTERVAL:g} s; counts successful attempts"
    )
    return ScenarioResult(
        name=NAME,
        summary=summary,
        deliveries=deliveries,
        seconds=seconds,
        usage=usage,
        verified=verified,
        details={
            "documented": len(documented),
            "load_seconds": load_seconds,
            "scrapes": len(scrapes),
            "scrape_errors": scraper.errors,
            "not_moved": still,
            "moved_after_seconds": {
                name: moved_after(scrapes, name) for name in sorted(documented)
            },
            "moved": {name: label_moves(scrapes, name) for name in sorted(documented)},
            "answers": dict(sorted(load.statuses.items())) if load else {},
            "load_errors": load.errors if load else [],
        },
    )
