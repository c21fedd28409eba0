"""``GET /metrics`` of a real ``hookd serve`` with a delivery process beside it: deliveries to a
succeeding, a failing, a slow (timed out) and an SSRF-refused endpoint, a transformed one, a
call and an inbound request, each counted once across both processes; the admin token guards
the API port, HOOKD_METRICS_ADDRESS needs none; every documented metric is served."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import httpx
import orjson
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.engine_support import client, create_app, create_endpoint, send
from tests.support import HookdServer, NewServer, Received, Receiver, eventually, free_port
from tests.unit.test_metrics import documented_names

MESSAGES = 12
# The series this test makes move; the others are only required to be there.
STILL = {
    "hookd_deliveries_due",
    "hookd_deliveries_oldest_due_age_seconds",
    "hookd_deliveries_in_flight",
    "hookd_alert_issues_open",
    "hookd_group_commit_failures_total",
    # The test servers' breakers never open (HOOKD_BREAKER_FAILURES=1000), nor are endpoints
    # disabled: tests/integration/test_log_stream.py counts these.
    "hookd_breaker_transitions_total",
    "hookd_endpoints_disabled_total",
}
IDENTITY = "function handler(request) { return request; }"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def log_lines(server: HookdServer, event: str) -> list[dict[str, Any]]:
    lines = server.log_path.read_text().splitlines()
    return [orjson.loads(ln) for ln in lines if ln.startswith("{") and f'"{event}"' in ln]


def parse(text: str) -> tuple[set[str], Samples]:
    """The metric names (counters with ``_total``) and every sample of an answer."""
    names: set[str] = set()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        names.add(f"{family.name}_total" if family.type == "counter" else family.name)
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return names, samples


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples that have ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


def moved(samples: Samples, names: Iterable[str]) -> set[str]:
    """Which of ``names`` have a sample above 0 (a histogram: a count above 0)."""
    found = set()
    for name in names:
        series = (name, f"{name}_count")
        if any(v > 0 for (n, _), v in samples.items() if n in series):
            found.add(name)
    return found


async def answer(request: Received) -> web.Response:
    if request.path == "/fail":
        return web.Response(status=500)
    if request.path == "/slow":
        await asyncio.sleep(3)  # past HOOKD_REQUEST_TIMEOUT
    return web.Response(status=204)


async def test_metrics_count_every_process_once(new_server: NewServer, receiver: Receiver) -> None:
    receiver.default = answer
    metrics_port = free_port()
    server = new_server(
        {
            "HOOKD_DELIVERY_PROCESSES": "2",
            # Four slots per process: the serving one's fill at once, so the child claims too.
            "HOOKD_CONCURRENCY": "4",
            "HOOKD_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}",
            "HOOKD_RETRY_SCHEDULE": "",  # one attempt per delivery
            "HOOKD_REQUEST_TIMEOUT": "1",
            "HOOKD_SHUTDOWN_GRACE": "1",
        }
    )
    server.start()
    async with client(server) as api:
        app_id = await create_app(api, "metrics")
        for path in ("/ok", "/fail", "/slow"):
            await create_endpoint(api, app_id, url=receiver.url_for(path))
        transformation = {"code": IDENTITY, "enabled": True}
        await create_endpoint(
            api, app_id, url=receiver.url_for("/transformed"), transformation=transformation
        )
        # Allowed now; refused at send time once the server runs with a narrower allow-list.
        await create_endpoint(api, app_id, url="http://127.0.0.2:9/refused")
        calls_app = await create_app(api, "calls")  # its endpoint gets no messages
        called = await create_endpoint(api, calls_app, url=receiver.url_for("/called"))
        source = await api.post(
            "/ingest/api/v1/source",
            json={"name": "gen", "type": "generic-webhook", "config": {"auth": "none"}},
        )
        assert source.status_code == 201, source.text
        ingest_url = source.json()["ingestUrl"]
    server.stop()
    stopped_before = len(log_lines(server, "delivery worker stopped"))  # the log goes on
    server.env["HOOKD_ALLOW_NETWORKS"] = "127.0.0.1/32"
    server.start()
    await eventually(_async(lambda: log_lines(server, "hookd worker started")))  # the child

    async with client(server) as api, httpx.AsyncClient(timeout=10) as public:
        await asyncio.gather(*(send(api, app_id, n) for n in range(MESSAGES)))
        call = await api.post(f"/api/v1/app/{calls_app}/endpoint/{called['id']}/call", json={})
        assert call.status_code == 200, call.text
        inbound = await public.post(ingest_url, json={"id": "evt_1", "type": "a.b"})
        assert inbound.status_code < 300, inbound.text

        async def scraped() -> Samples:
            answer = await public.get(f"http://127.0.0.1:{metrics_port}/metrics")
            assert answer.status_code == 200
            _, samples = parse(answer.text)
            finished = total(samples, "hookd_delivery_attempts_total")
            return samples if finished >= 5 * MESSAGES else {}

        samples = await eventually(scraped, timeout=60)

        # The API port: the admin token, then the same metrics.
        assert (await public.get(f"{server.url}/metrics")).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert (await public.get(f"{server.url}/metrics", headers=wrong)).status_code == 401
        on_api = await api.get("/metrics")
        assert on_api.status_code == 200
        assert on_api.headers["content-type"].startswith("text/plain")
        names, from_api = parse(on_api.text)

    attempts = "hookd_delivery_attempts_total"
    assert total(samples, attempts, outcome="success", destination="http") == 2 * MESSAGES
    assert total(samples, attempts, outcome="http_5xx") == MESSAGES
    assert total(samples, attempts, outcome="timeout") == MESSAGES
    assert total(samples, attempts, outcome="refused") == MESSAGES
    assert total(samples, attempts) == 5 * MESSAGES
    assert total(samples, "hookd_messages_accepted_total", origin="api") == MESSAGES
    assert total(samples, "hookd_messages_accepted_total", origin="ingest") == 1
    assert total(samples, "hookd_delivery_latency_seconds_count") == 2 * MESSAGES
    assert total(samples, "hookd_transformations_total", outcome="transformed") == MESSAGES
    assert total(samples, "hookd_calls_total", outcome="success") == 1
    accepted = {"source_type": "generic-webhook", "outcome": "accepted"}
    assert total(samples, "hookd_ingest_requests_total", **accepted) == 1
    # Every process's attempts are in: the API port's answer counts the same.
    assert total(from_api, attempts) == 5 * MESSAGES
    assert total(from_api, "hookd_endpoints", state="failing") == 3  # /fail, /slow, refused
    assert total(from_api, "hookd_endpoints") == 6

    documented = documented_names()
    assert names == documented  # every documented series is served, and nothing else
    assert moved(from_api, documented - STILL) == documented - STILL

    server.terminate()
    # Both processes delivered: the sum above is of the two.
    counts = log_lines(server, "delivery worker stopped")[stopped_before:]
    assert len(counts) == 2
    delivered = [int(c["claimed"]) + int(c["handed_off"]) for c in counts]
    assert all(n > 0 for n in delivered), counts
    assert sum(delivered) == 5 * MESSAGES


def _async(check: Any) -> Any:
    async def checked() -> Any:
        return check()

    return checked


async def test_metrics_off(new_server: NewServer) -> None:
    server = new_server({"HOOKD_METRICS": "false"})
    server.start()
    async with client(server) as api:
        answer = await api.get("/metrics")
    assert answer.status_code == 404
    assert answer.json()["code"] == "metrics_off"
