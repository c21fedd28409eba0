"""One application's runaway transformations do not hold up another application's deliveries
(a real hookd serve with its sandbox pool of two workers, a real receiver)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.engine_support import client
from tests.support import NewServer, Receiver, eventually

pytest.importorskip("py_mini_racer", reason="mini-racer (the transformations extra) is missing")

RUNAWAY = "function handler(request) { while (true) {} }"
HEALTHY = "function handler(request) { request.headers['x-ok'] = '1'; return request; }"
RUNAWAY_ENDPOINTS = 5
RUNAWAY_MESSAGES = 4


async def create_app(api: httpx.AsyncClient, name: str) -> str:
    response = await api.post("/api/v1/app", json={"name": name})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def add_endpoint(api: httpx.AsyncClient, app_id: str, url: str, code: str) -> None:
    response = await api.post(
        f"/api/v1/app/{app_id}/endpoint", json={"url": url, "transformation": {"code": code}}
    )
    assert response.status_code == 201, response.text


async def send(api: httpx.AsyncClient, app_id: str) -> str:
    response = await api.post(
        f"/api/v1/app/{app_id}/msg", json={"eventType": "order.created", "payload": {"n": 1}}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def attempts(api: httpx.AsyncClient, app_id: str, msg_ids: list[str]) -> list[Any]:
    found: list[Any] = []
    for msg_id in msg_ids:
        listing = await api.get(f"/api/v1/app/{app_id}/attempt/msg/{msg_id}")
        found.extend(listing.json()["data"])
    return found


async def test_runaway_application_does_not_delay_another_applications_delivery(
    new_server: NewServer,
    receiver: Receiver,
) -> None:
    # Each runaway call holds a worker for 2 s; 20 of them on the default two workers shared
    # first come, first served would hold the healthy delivery up for about 20 s.
    server = new_server({"HOOKD_TRANSFORM_TIMEOUT_MS": "2000", "HOOKD_SHUTDOWN_GRACE": "1"})
    server.start()
    async with client(server) as api:
        runaway = await create_app(api, "runaway")
        for n in range(RUNAWAY_ENDPOINTS):
            await add_endpoint(api, runaway, receiver.url_for(f"/loop{n}"), RUNAWAY)
        healthy = await create_app(api, "healthy")
        await add_endpoint(api, healthy, receiver.url_for("/healthy"), HEALTHY)

        runaway_ids = [await send(api, runaway) for _ in range(RUNAWAY_MESSAGES)]
        # The first runaway attempt is recorded: the runaway deliveries are claimed and their
        # transformations run or wait in the sandbox.
        await eventually(lambda: attempts(api, runaway, runaway_ids), timeout=30)
        await send(api, healthy)
        (delivered,) = await receiver.wait_for(1, path="/healthy", timeout=30)
        assert delivered.headers["x-ok"] == "1"

        # The healthy delivery went out while most runaway transformations had not run yet:
        # the runaway application had one worker, not the pool.
        done = await attempts(api, runaway, runaway_ids)
        assert len(done) < RUNAWAY_ENDPOINTS * RUNAWAY_MESSAGES // 2
        assert {a["response"] for a in done} == {"transformation failed: timed out after 2000 ms"}
    assert not [r for r in receiver.requests if r.path != "/healthy"]
