"""Direct hand-off (SQLite, role all): deliveries a create can start at once go to the worker
without a claim round. Delivered once, redelivered after a crash, never used where an
endpoint's gate is not trivially open, and the per-endpoint in-flight cap still holds.

Which path a delivery took is read from the worker's counts, logged when it stops."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from aiohttp import web

from tests.integration.engine_support import (
    client,
    create_app,
    create_endpoint,
    gated_receiver,
    health,
    send,
)
from tests.support import HookdServer, NewServer, Received, Receiver, eventually

SERVER = {"HOOKD_SHUTDOWN_GRACE": "1"}


def worker_counts(server: HookdServer) -> dict[str, int]:
    """The counts of the last "delivery worker stopped" line of the server's log."""
    lines = [ln for ln in server.log_path.read_text().splitlines() if "worker stopped" in ln]
    assert lines, "the worker did not log its stop"
    found = orjson.loads(lines[-1])
    return {key: int(found[key]) for key in ("claimed", "handed_off", "claim_rounds")}


def ids_of(receiver: Receiver) -> list[str]:
    return [r.headers["webhook-id"] for r in receiver.requests]


async def test_handed_off_deliveries_arrive_once_each(
    new_server: NewServer, receiver: Receiver
) -> None:
    server = new_server(SERVER)
    server.start()
    async with client(server) as api:
        app_id = await create_app(api, "handoff")
        endpoint = await create_endpoint(api, app_id, url=receiver.url)
        sent = [await send(api, app_id, n) for n in range(20)]
        await receiver.wait_for(20, timeout=30)
        stats_url = f"/api/v1/app/{app_id}/endpoint/{endpoint['id']}/stats"

        async def all_recorded() -> bool:
            return bool((await api.get(stats_url)).json()["success"] == 20)

        await eventually(all_recorded)
        attempts = await api.get(f"/api/v1/app/{app_id}/attempt/endpoint/{endpoint['id']}")
        assert len(attempts.json()["data"]) == 20
    server.terminate()
    assert sorted(ids_of(receiver)) == sorted(sent)  # each exactly once
    counts = worker_counts(server)
    assert counts["handed_off"] > 0
    assert counts["handed_off"] + counts["claimed"] == 20


async def test_killed_with_handed_off_deliveries_in_flight_redelivers(
    new_server: NewServer,
) -> None:
    server = new_server({**SERVER, "HOOKD_REQUEST_TIMEOUT": "120"})
    server.start()
    async with gated_receiver() as (slow, gate), client(server) as api:
        app_id = await create_app(api, "crash")
        await create_endpoint(api, app_id, url=slow.url)
        sent = [await send(api, app_id, n) for n in range(3)]
        await slow.wait_for(3, timeout=30)  # all three in flight, none answered
        server.kill()
        gate.released.set()
        server.start()
        await slow.wait_for(6, timeout=60)
        assert sorted(ids_of(slow)[3:]) == sorted(sent)
        assert len(slow.requests) == 6
    server.terminate()
    # The restarted worker took the rows back (reclaimed, then claimed by a round).
    assert worker_counts(server)["claimed"] == 3


async def test_endpoints_without_a_trivially_open_gate_never_take_the_hand_off(
    new_server: NewServer, receiver: Receiver
) -> None:
    server = new_server(SERVER)
    server.start()
    failed = asyncio.Event()

    async def fail_failing(request: Received) -> web.Response:
        # The failing endpoint keeps failing (one success would make it healthy again).
        if request.path == "/failing":
            failed.set()
            return web.Response(status=500)
        return web.Response(status=204)

    receiver.default = fail_failing
    async with client(server) as api:
        kinds: dict[str, dict[str, Any]] = {
            "rate": {"rateLimit": 100},
            "app-rate": {},  # its application has the rate limit
            "fifo": {"fifo": True},
            "batch": {"batchSize": 2, "batchMaxWaitMs": 50},
            "failing": {},
            "scheduled": {},
        }
        apps: dict[str, str] = {}
        endpoints: dict[str, str] = {}
        for kind, fields in kinds.items():
            apps[kind] = await create_app(api, kind)
            url = receiver.url_for(f"/{kind}")
            endpoints[kind] = (await create_endpoint(api, apps[kind], url=url, **fields))["id"]
        limited = await api.patch(f"/api/v1/app/{apps['app-rate']}", json={"rateLimit": 100})
        assert limited.status_code == 200, limited.text

        # A failing endpoint: its first message goes while it is healthy, and fails.
        await send(api, apps["failing"], 0)
        await asyncio.wait_for(failed.wait(), 30)

        async def backing_off() -> bool:
            state = await health(api, apps["failing"], endpoints["failing"])
            return bool(state["consecutiveFailures"] >= 1)

        await eventually(backing_off)

        soon = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
        for n in range(1, 3):
            for kind in ("rate", "app-rate", "fifo", "batch", "failing"):
                await send(api, apps[kind], n)
            await send(api, apps["scheduled"], n, deliverAt=soon)

        def delivered(kind: str) -> set[int]:
            return {orjson.loads(r.body)["n"] for r in receiver.requests if r.path == f"/{kind}"}

        async def everything_arrived() -> bool:
            batch_items = [
                item["payload"]["n"]
                for r in receiver.requests
                if r.path == "/batch"
                for item in orjson.loads(r.body)
            ]
            return (
                all(delivered(k) >= {1, 2} for k in ("rate", "app-rate", "fifo", "scheduled"))
                and sorted(batch_items) == [1, 2]
                and {0, 1, 2} <= delivered("failing")
            )

        await eventually(everything_arrived, timeout=60)
    server.terminate()
    # Only the failing endpoint's first message (sent while it was healthy) was handed off.
    assert worker_counts(server)["handed_off"] == 1


async def test_per_endpoint_cap_holds_with_hand_offs(new_server: NewServer) -> None:
    server = new_server(
        {**SERVER, "HOOKD_ENDPOINT_CONCURRENCY": "2", "HOOKD_REQUEST_TIMEOUT": "120"}
    )
    server.start()
    async with gated_receiver() as (slow, gate), client(server) as api:
        app_id = await create_app(api, "capped")
        endpoint = await create_endpoint(api, app_id, url=slow.url)
        sent = [await send(api, app_id, n) for n in range(8)]
        await slow.wait_for(2, timeout=30)
        stats_url = f"/api/v1/app/{app_id}/endpoint/{endpoint['id']}/stats"

        async def two_sending() -> bool:
            stats = (await api.get(stats_url)).json()
            return bool(stats["sending"] == 2 and stats["pending"] == 6)

        await eventually(two_sending)
        assert len(slow.requests) == 2
        gate.released.set()
        await slow.wait_for(8, timeout=60)
        assert gate.max_in_flight["/hook"] == 2
        assert sorted(ids_of(slow)) == sorted(sent)
    server.terminate()
    counts = worker_counts(server)
    assert counts["handed_off"] == 2  # the first two; the rest queued behind them
    assert counts["claimed"] == 6
