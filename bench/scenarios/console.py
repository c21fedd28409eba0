"""The console's page times over a big message log: ``hookd serve`` on a SQLite file holding
N messages (1,000,000; 100,000 with ``--quick``), a signed-in session, and the time each page
takes to come back, measured at the client on loopback (rendering included, no browser)."""

from __future__ import annotations

import time

import requests

from bench.console_data import build_message_log
from bench.hookd_server import TOKEN, HookdServer
from bench.measure import LatencySummary, summarize_latencies
from bench.model import MIB, ScenarioResult
from bench.scenarios.common import RunContext

NAME = "console-pages"
SAMPLES = 40  # timed requests per page
WARM_UP = 3  # untimed requests per page first (templates compiled, caches filled)
TARGET_MS = 200.0
UNUSED_URLS = [f"http://127.0.0.1:9/hook-{n}" for n in range(3)]  # nothing is ever sent there


def _signed_in(base: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{base}/console/sign-in", timeout=30).raise_for_status()
    csrf = session.cookies.get("hookd_console_sign_in")
    answer = session.post(
        f"{base}/console/sign-in",
        data={"token": TOKEN, "csrf": csrf or "", "next": "/console/apps"},
        timeout=30,
    )
    answer.raise_for_status()
    if "hookd_console" not in session.cookies:
        raise RuntimeError("the bench could not sign in to the console")
    return session


def _timed(session: requests.Session, url: str, must_contain: str) -> LatencySummary:
    for _ in range(WARM_UP):
        session.get(url, timeout=60).raise_for_status()
    seconds = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        answer = session.get(url, timeout=60)
        seconds.append(time.perf_counter() - started)
        answer.raise_for_status()
        if must_contain not in answer.text:
            raise RuntimeError(f"{url} does not show {must_contain!r}")
    return summarize_latencies(seconds)


def run(ctx: RunContext) -> ScenarioResult:
    count = ctx.sizes.console_messages
    workdir = ctx.workdir / NAME
    server = HookdServer(workdir / "hookd")
    server.workdir.mkdir(parents=True, exist_ok=True)
    log = build_message_log(server.db_path, messages_count=count, urls=UNUSED_URLS)
    started = time.monotonic()
    try:
        server.start()
        session = _signed_in(server.base_url)
        app = f"{server.base_url}/console/apps/{log.app_id}"
        first_page = _timed(session, f"{app}/messages", log.detail_msg_id)
        detail = _timed(session, f"{app}/messages/{log.detail_msg_id}", "upstream unavailable")
        failed = _timed(
            session, f"{app}/messages?endpoint={log.endpoint_ids[0]}&status=fail", "msg_"
        )
    finally:
        server.stop()
    samples = 3 * SAMPLES
    return ScenarioResult(
        name=NAME,
        summary=(
            f"console pages over {count:,} messages in SQLite (inserted through the store): "
            f"the log's first page and a message's page, {SAMPLES} requests each"
        ),
        deliveries=samples,
        seconds=time.monotonic() - started,
        latency=detail if detail.p99_ms > first_page.p99_ms else first_page,
        verified="ok: the log's first page shows the newest message, its page its attempts",
        details={
            "messages": count,
            "insert_seconds": log.seconds,
            "db_megabytes": log.db_bytes / MIB,
            "log_first_page_ms": {"p50": first_page.p50_ms, "p99": first_page.p99_ms},
            "message_page_ms": {"p50": detail.p50_ms, "p99": detail.p99_ms},
            "failed_at_endpoint_page_ms": {"p50": failed.p50_ms, "p99": failed.p99_ms},
            "target_ms": TARGET_MS,
        },
    )
