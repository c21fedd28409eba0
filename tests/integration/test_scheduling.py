"""The endpoint is the unit of scheduling: in-flight limits, fairness, FIFO, rate limits,
scheduled messages. Real servers, real receivers; counts and ordering, never timing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import orjson
import standardwebhooks

from tests.integration.engine_support import (
    ServerFactory,
    client,
    create_app,
    create_endpoint,
    engine_server,
    gated_receiver,
    send,
)
from tests.pg import create_database, drop_database
from tests.support import Receiver, eventually

__all__ = ["engine_server"]


async def test_slow_endpoints_cannot_starve_a_fast_one(
    engine_server: ServerFactory, receiver: Receiver
) -> None:
    server = engine_server(
        {
            "HOOKD_CONCURRENCY": "8",
            "HOOKD_ENDPOINT_CONCURRENCY": "2",
            "HOOKD_REQUEST_TIMEOUT": "120",
        }
    )
    async with gated_receiver() as (slow, gate), client(server) as api:
        slow_app = await create_app(api, "slow")
        fast_app = await create_app(api, "fast")
        slow_eps = [
            await create_endpoint(api, slow_app, url=slow.url_for(f"/slow{i}")) for i in range(3)
        ]
        await create_endpoint(api, fast_app, url=receiver.url)
        for n in range(10):
            await send(api, slow_app, n)
        for n in range(20):
            await send(api, fast_app, n)

        fast = await receiver.wait_for(20, timeout=60)
        assert sorted(orjson.loads(r.body)["n"] for r in fast) == list(range(20))
        # Each hanging endpoint holds exactly its in-flight limit; the rest waits, unsent.
        await slow.wait_for(6)
        assert sorted(r.path for r in slow.requests) == sorted([f"/slow{i}" for i in range(3)] * 2)
        for ep in slow_eps:
            stats = (await api.get(f"/api/v1/app/{slow_app}/endpoint/{ep['id']}/stats")).json()
            assert stats["success"] == 0 and stats["pending"] + stats["sending"] == 10

        gate.released.set()
        await slow.wait_for(30, timeout=60)
        assert max(gate.max_in_flight.values()) == 2
        assert len({r.headers["webhook-id"] + r.path for r in slow.requests}) == 30


async def test_in_flight_limit_holds_across_worker_processes(new_server: ServerFactory) -> None:
    database = create_database()  # several workers share PostgreSQL (SQLite is one process's)
    common = {"HOOKD_DATABASE_URL": database, "HOOKD_SHUTDOWN_GRACE": "1"}
    limit = {
        **common,
        "HOOKD_ROLE": "worker",
        "HOOKD_ENDPOINT_CONCURRENCY": "2",
        "HOOKD_REQUEST_TIMEOUT": "120",
    }
    servers = []
    try:
        api_server = new_server({**common, "HOOKD_ROLE": "api"}, name="api")
        servers.append(api_server)
        api_server.start()
        async with gated_receiver() as (slow, gate), client(api_server) as api:
            app_id = await create_app(api, "shared")
            endpoint = await create_endpoint(api, app_id, url=slow.url)
            for n in range(10):
                await send(api, app_id, n)
            for name in ("worker1", "worker2"):
                worker = new_server(limit, name=name)
                servers.append(worker)
                worker.start(wait_healthy=False)
            await slow.wait_for(2, timeout=30)
            stats_url = f"/api/v1/app/{app_id}/endpoint/{endpoint['id']}/stats"

            async def two_sending() -> bool:
                stats = (await api.get(stats_url)).json()
                return bool(stats["sending"] == 2 and stats["pending"] == 8)

            # Both workers see the endpoint's two deliveries in flight and claim no more.
            await eventually(two_sending)
            assert len(slow.requests) == 2
            gate.released.set()
            await slow.wait_for(10, timeout=60)
            assert gate.max_in_flight["/hook"] == 2
            assert len({r.headers["webhook-id"] for r in slow.requests}) == 10
    finally:
        for server in servers:
            server.stop()
        drop_database(database)


async def test_fifo_endpoint_delivers_in_order_and_waits_for_retries(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.responses = [500, 500]
    app_id = await create_app(api, "fifo")
    endpoint = await create_endpoint(api, app_id, url=receiver.url, fifo=True)
    assert endpoint["fifo"] is True
    sent = [await send(api, app_id, n) for n in range(4)]

    requests = await receiver.wait_for(6, timeout=30)
    # The first message is retried twice; nothing else goes out until it succeeds.
    assert [r.headers["webhook-id"] for r in requests] == [sent[0]] * 3 + sent[1:]
    got = (await api.get(f"/api/v1/app/{app_id}/endpoint/{endpoint['id']}")).json()
    assert got["fifo"] is True
    patched = await api.patch(
        f"/api/v1/app/{app_id}/endpoint/{endpoint['id']}", json={"fifo": False}
    )
    assert patched.json()["fifo"] is False


async def test_rate_limited_endpoint_gets_everything_in_order(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    app_id = await create_app(api, "limited")
    await create_endpoint(api, app_id, url=receiver.url, rateLimit=1)
    sent = [await send(api, app_id, n) for n in range(3)]
    requests = await receiver.wait_for(3, timeout=30)
    assert [r.headers["webhook-id"] for r in requests] == sent


async def test_an_applications_rate_limit_applies_to_each_endpoint_without_its_own(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    # As Svix: the application's limit propagates to its endpoints, each endpoint's own
    # limit overrides it. At 1 a second (a bucket of one), 4 messages take at least 3 s.
    created = await api.post("/api/v1/app", json={"name": "app-limited", "throttleRate": 1})
    assert created.status_code == 201, created.text
    assert created.json()["rateLimit"] == 1
    app_id = created.json()["id"]
    await create_endpoint(api, app_id, url=receiver.url_for("/inherits"))
    await create_endpoint(api, app_id, url=receiver.url_for("/own"), rateLimit=1000)
    sent = [await send(api, app_id, n) for n in range(4)]
    requests = await receiver.wait_for(8, timeout=30)
    inherits = [r for r in requests if r.path == "/inherits"]
    own = [r for r in requests if r.path == "/own"]
    assert [r.headers["webhook-id"] for r in inherits] == sent
    assert inherits[-1].at - inherits[0].at >= 2.5
    # The endpoint with its own, higher limit is not held to the application's.
    assert sorted(r.headers["webhook-id"] for r in own) == sorted(sent)
    assert own[-1].at < inherits[-1].at


async def test_scheduled_message_is_delivered_at_deliver_at(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    app_id = await create_app(api, "scheduled")
    await create_endpoint(api, app_id, url=receiver.url)
    deliver_at = datetime.now(UTC) + timedelta(seconds=2)
    later = await send(api, app_id, 1, deliverAt=deliver_at.isoformat())
    now = await send(api, app_id, 2)
    requests = await receiver.wait_for(2, timeout=30)
    assert [r.headers["webhook-id"] for r in requests] == [now, later]
    assert requests[1].at >= deliver_at.timestamp()


async def test_deliver_at_is_validated(api: httpx.AsyncClient) -> None:
    app_id = await create_app(api, "scheduled-bad")
    url = f"/api/v1/app/{app_id}/msg"
    too_far = (datetime.now(UTC) + timedelta(days=31)).isoformat()
    for value, needle in (
        (too_far, "30 days"),
        (1893456000, "deliverAt"),  # a number is no time (a time without offset is UTC)
        ("next tuesday", "deliverAt"),
    ):
        response = await api.post(url, json={"eventType": "a.b", "payload": {}, "deliverAt": value})
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] and needle in str(body["detail"])
    assert (await api.get(url)).json()["data"] == []  # nothing was accepted


async def test_batch_endpoint_gets_messages_as_signed_arrays(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    app_id = await create_app(api, "batch")
    endpoint = await create_endpoint(api, app_id, url=receiver.url, batchSize=5, batchMaxWaitMs=200)
    assert (endpoint["batchSize"], endpoint["batchMaxWaitMs"]) == (5, 200)
    secret = (await api.get(f"/api/v1/app/{app_id}/endpoint/{endpoint['id']}/secret")).json()["key"]
    sent = [await send(api, app_id, n) for n in range(12)]

    async def all_received() -> list[dict[str, object]]:
        items = [item for r in receiver.requests for item in orjson.loads(r.body)]
        return items if len(items) >= 12 else []

    items = await eventually(all_received, timeout=30)
    assert sorted(str(item["id"]) for item in items) == sorted(sent)
    assert sorted(item["payload"]["n"] for item in items) == list(range(12))
    for request in receiver.requests:
        assert 1 <= len(orjson.loads(request.body)) <= 5
        standardwebhooks.Webhook(secret).verify(request.body, request.headers)
        assert request.headers["webhook-id"].startswith("batch_")

    async def each_recorded() -> bool:
        stats = (await api.get(f"/api/v1/app/{app_id}/endpoint/{endpoint['id']}/stats")).json()
        return bool(stats["success"] == 12)

    await eventually(each_recorded)
    attempts = (await api.get(f"/api/v1/app/{app_id}/attempt/msg/{sent[0]}")).json()["data"]
    assert [a["status"] for a in attempts] == [0]


async def test_batch_settings_are_validated(api: httpx.AsyncClient) -> None:
    app_id = await create_app(api, "batch-bad")
    url = f"/api/v1/app/{app_id}/endpoint"
    for fields in ({"batchSize": 0}, {"batchSize": 5000}, {"batchMaxWaitMs": -1}):
        response = await api.post(url, json={"url": "https://example.com/hook", **fields})
        assert response.status_code == 422, response.text
        assert response.json()["code"]
