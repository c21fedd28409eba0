"""Rolled-up counters and the statistics read from them, through the official Svix SDK and the
raw API, on SQLite and PostgreSQL: real deliveries to a receiver answering 2xx and 5xx, a call,
a source receiving the same webhook twice, and the usage statistics' background tasks."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from svix.api import (
    ApplicationIn,
    AppUsageStatsIn,
    EndpointGetAttemptStatsOptions,
    EndpointIn,
    IngestSourceIn,
    MessageIn,
    SvixAsync,
)
from svix.models import BackgroundTaskOut, BackgroundTaskStatus, BackgroundTaskType

from tests.integration.inbound.signers import github_headers
from tests.support import Receiver, eventually

GITHUB_SECRET = "stats-secret"


def hours_around(now: datetime) -> tuple[datetime, datetime]:
    return now - timedelta(hours=1), now + timedelta(hours=1)


async def finished(svix: SvixAsync, task_id: str) -> BackgroundTaskOut:
    async def done() -> BackgroundTaskOut | None:
        task = await svix.background_task.get(task_id)
        assert task.status != BackgroundTaskStatus.FAILED, task.data
        return task if task.status == BackgroundTaskStatus.FINISHED else None

    found: BackgroundTaskOut = await eventually(done)
    return found


async def attempt_counts(
    svix: SvixAsync, app_id: str, endpoint_id: str
) -> Callable[[], Awaitable[tuple[int, int, int]]]:
    async def read() -> tuple[int, int, int]:
        stats = await svix.endpoint.get_attempt_stats(
            app_id, endpoint_id, EndpointGetAttemptStatsOptions()
        )
        return stats.success, stats.fail, stats.canceled

    return read


async def test_attempts_are_counted_per_endpoint_and_minute(
    svix: SvixAsync, api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    receiver.responses = [500]  # the first request fails (and is retried), the rest succeed
    receiver.default = 200
    endpoint = await svix.endpoint.create(app_id, EndpointIn(url=receiver.url))
    for n in range(2):
        await svix.message.create(app_id, MessageIn(event_type="a.b", payload={"n": n}))
    read = await attempt_counts(svix, app_id, endpoint.id)

    async def counted() -> bool:
        return await read() == (2, 1, 0)

    await eventually(counted)
    base = f"/api/v1/app/{app_id}/endpoint/{endpoint.id}"
    answer = await api.get(f"{base}/stats/attempts", params={"interval": "minute"})
    assert answer.status_code == 200, answer.text
    series = answer.json()
    assert series["interval"] == "minute"
    assert len(series["data"]) == 61  # the last hour by default, and the minute holding now
    counters = [key for key in series["data"][0] if key != "start"]
    totals = {key: sum(point[key] for point in series["data"]) for key in counters}
    assert totals == {
        "success": 2,
        "fail": 1,
        "canceled": 0,
        "fail4xx": 0,
        "fail5xx": 1,
        "failNoResponse": 0,
        "transformFailures": 0,
        "destinations": 2,  # two messages, one retried
    }
    # Whole hours: an hour ago to now covers the attempts; two hours ago to one does not.
    now = datetime.now(UTC)
    earlier = await svix.endpoint.get_attempt_stats(
        app_id,
        endpoint.id,
        EndpointGetAttemptStatsOptions(
            since=now - timedelta(hours=3), until=now - timedelta(hours=2)
        ),
    )
    assert (earlier.success, earlier.fail) == (0, 0)
    daily = await api.get(f"{base}/stats/attempts", params={"interval": "day"})
    assert sum(point["success"] for point in daily.json()["data"]) == 2


async def test_a_call_is_counted_too(
    svix: SvixAsync, api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    endpoint = await svix.endpoint.create(app_id, EndpointIn(url=receiver.url))
    called = await api.post(
        f"/api/v1/app/{app_id}/endpoint/{endpoint.id}/call", json={"payload": {"x": 1}}
    )
    assert called.status_code == 200, called.text
    read = await attempt_counts(svix, app_id, endpoint.id)
    assert await read() == (1, 0, 0)  # written with the call's attempt, before it answered


async def test_inbound_requests_are_counted_per_source_and_outcome(
    svix: SvixAsync, api: httpx.AsyncClient
) -> None:
    source = await svix.ingest.source.create(
        IngestSourceIn.model_validate(
            {
                "name": "stats",
                "uid": f"s-{uuid.uuid4().hex[:12]}",
                "type": "github",
                "config": {"secret": GITHUB_SECRET},
            }
        )
    )
    assert source.ingest_url is not None
    body = orjson.dumps({"ref": "refs/heads/main"})
    headers = github_headers(body, GITHUB_SECRET, "push", delivery="stats-1")
    async with httpx.AsyncClient(timeout=10) as public:
        for _ in range(2):  # the same webhook twice: accepted, then a duplicate
            answer = await public.post(source.ingest_url, content=body, headers=headers)
            assert answer.status_code == 200, answer.text
        forged = await public.post(source.ingest_url, content=body, headers={"X-A": "b"})
        assert forged.status_code == 401
    answer = await api.get(f"/ingest/api/v1/source/{source.id}/stats", params={"interval": "hour"})
    assert answer.status_code == 200, answer.text
    points = answer.json()["data"]
    totals = {key: sum(p[key] for p in points) for key in ("accepted", "duplicate", "rejected")}
    assert totals == {"accepted": 1, "duplicate": 1, "rejected": 1}
    assert sum(p["handshake"] for p in points) == 0


async def test_app_usage_stats_count_messages_sent_to_endpoints(
    svix: SvixAsync, receiver: Receiver
) -> None:
    uid = f"usage-{uuid.uuid4().hex[:12]}"
    app = await svix.application.create(ApplicationIn(name="usage", uid=uid))
    other = await svix.application.create(ApplicationIn(name="idle"))
    first = await svix.endpoint.create(app.id, EndpointIn(url=receiver.url))
    second = await svix.endpoint.create(app.id, EndpointIn(url=receiver.url))
    for n in range(3):
        await svix.message.create(app.id, MessageIn(event_type="a.b", payload={"n": n}))
    for endpoint in (first, second):
        read = await attempt_counts(svix, app.id, endpoint.id)

        async def delivered(read: Any = read) -> bool:
            return bool(await read() == (3, 0, 0))

        await eventually(delivered)

    since, until = hours_around(datetime.now(UTC))
    started = await svix.statistics.aggregate_app_stats(
        AppUsageStatsIn(since=since, until=until, app_ids=[uid, other.id, "app_missing"])
    )
    assert started.task == BackgroundTaskType.APPLICATION_STATS
    assert started.unresolved_app_ids == ["app_missing"]
    task = await finished(svix, started.id)
    expected: list[dict[str, Any]] = [
        {"appId": app.id, "appUid": uid, "messageDestinations": 6},
        {"appId": other.id, "appUid": None, "messageDestinations": 0},
    ]
    assert task.data == {"appStats": sorted(expected, key=lambda row: str(row["appId"]))}
    # Every application that sent something, when none is named (others of the suite too).
    started = await svix.statistics.aggregate_app_stats(AppUsageStatsIn(since=since, until=until))
    rows = (await finished(svix, started.id)).data["appStats"]
    assert {"appId": app.id, "appUid": uid, "messageDestinations": 6} in rows
    assert other.id not in {row["appId"] for row in rows}


async def test_event_types_aggregate_lists_each_applications_subscriptions(
    svix: SvixAsync, receiver: Receiver
) -> None:
    picky = await svix.application.create(ApplicationIn(name="picky"))
    broad = await svix.application.create(ApplicationIn(name="broad"))
    await svix.endpoint.create(picky.id, EndpointIn(url=receiver.url, event_types=["b.x", "a.x"]))
    await svix.endpoint.create(picky.id, EndpointIn(url=receiver.url, event_types=["a.x"]))
    await svix.endpoint.create(
        picky.id, EndpointIn(url=receiver.url, event_types=["c.x"], disabled=True)
    )
    await svix.endpoint.create(broad.id, EndpointIn(url=receiver.url))
    started = await svix.statistics.aggregate_event_types()
    assert started.task == BackgroundTaskType.EVENT_TYPE_AGGREGATE
    rows = {row["appId"]: row for row in (await finished(svix, started.id)).data["event_types"]}
    assert rows[picky.id] == {
        "appId": picky.id,
        "explicitlySubscribedEventTypes": ["a.x", "b.x"],  # the disabled endpoint's left out
        "hasCatchAllEndpoint": False,
    }
    assert rows[broad.id]["hasCatchAllEndpoint"] is True


async def test_bad_statistics_requests_are_refused(
    api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    endpoint = (await api.post(f"/api/v1/app/{app_id}/endpoint", json={"url": receiver.url})).json()
    base = f"/api/v1/app/{app_id}/endpoint/{endpoint['id']}"
    cases: list[tuple[str, str, dict[str, Any], int, str]] = [
        (
            "POST",
            "/api/v1/stats/usage/app",
            {"json": {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}},
            422,
            "invalid_range",
        ),
        (
            "POST",
            "/api/v1/stats/usage/app",
            {
                "json": {
                    "since": "2026-01-01T00:00:00Z",
                    "until": "2026-01-02T00:00:00Z",
                    "appIds": ["app_nobody"],
                }
            },
            422,
            "unknown_application",
        ),
        ("POST", "/api/v1/stats/usage/app", {"json": {"since": 5}}, 422, "validation"),
        (
            "GET",
            f"{base}/stats/attempts",
            {"params": {"interval": "minute", "since": "2026-01-01T00:00:00Z"}},
            422,
            "too_many_intervals",
        ),
        ("GET", f"{base}/stats/attempts", {"params": {"interval": "week"}}, 422, "validation"),
        (
            "GET",
            f"{base}/attempt-stats",
            {"params": {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}},
            422,
            "invalid_range",
        ),
        ("GET", f"/api/v1/app/{app_id}/endpoint/ep_nobody/attempt-stats", {}, 404, "not_found"),
        ("GET", "/ingest/api/v1/source/src_nobody/stats", {}, 404, "not_found"),
    ]
    for method, path, kwargs, status, code in cases:
        answer = await api.request(method, path, **kwargs)
        assert answer.status_code == status, (path, answer.text)
        body = answer.json()
        assert body["code"] == code and body["detail"], (path, body)


async def test_transformation_failures_and_cancels_are_counted_apart(
    api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    code = (
        "function handler(request) {\n"
        "  if (request.body.boom) throw new Error('boom');\n"
        "  return request.body.skip ? null : request;\n"
        "}"
    )
    created = await api.post(
        f"/api/v1/app/{app_id}/endpoint",
        json={"url": receiver.url, "transformation": {"code": code}},
    )
    assert created.status_code == 201, created.text
    base = f"/api/v1/app/{app_id}/endpoint/{created.json()['id']}"
    for payload in ({"boom": True}, {"skip": True}, {}):
        sent = await api.post(
            f"/api/v1/app/{app_id}/msg", json={"eventType": "a.b", "payload": payload}
        )
        assert sent.status_code == 201, sent.text

    async def counted() -> dict[str, int] | None:
        points = (await api.get(f"{base}/stats/attempts", params={"interval": "hour"})).json()
        totals = {k: sum(p[k] for p in points["data"]) for k in points["data"][0] if k != "start"}
        done = totals["success"] == 1 and totals["canceled"] == 1 and totals["fail"] >= 1
        return totals if done else None

    totals = await eventually(counted)
    # The throwing transformation's attempts: failed without an answer, retried on schedule.
    assert totals["transformFailures"] == totals["fail"] == totals["failNoResponse"]
    assert totals["destinations"] == 3
