"""Endpoint health: the circuit breaker, disabling after long failure, delivery-control headers."""

from __future__ import annotations

import httpx
from aiohttp import web

from tests.integration.engine_support import (
    ServerFactory,
    Tracker,
    client,
    create_app,
    create_endpoint,
    engine_server,
    health,
    send,
)
from tests.support import Receiver, eventually

__all__ = ["engine_server"]


async def test_open_circuit_pauses_and_a_single_probe_closes_it(
    engine_server: ServerFactory, receiver: Receiver
) -> None:
    server = engine_server(
        {
            "HOOKD_BREAKER_FAILURES": "3",
            "HOOKD_BREAKER_COOLDOWN": "1",
            "HOOKD_RETRY_SCHEDULE": ",".join(["0.2"] * 20),
        }
    )
    failing = Tracker(500)
    receiver.default = failing
    async with client(server) as api:
        app_id = await create_app(api, "breaker")
        endpoint = await create_endpoint(api, app_id, url=receiver.url)
        assert (await health(api, app_id, endpoint["id"]))["state"] == "healthy"
        sent = {await send(api, app_id, n) for n in range(4)}

        async def opened() -> dict[str, object] | None:
            got = await health(api, app_id, endpoint["id"])
            return got if got["state"] == "circuit_open" else None

        state = await eventually(opened, timeout=30)
        assert state["consecutiveFailures"] >= 3 and state["nextProbeAt"] and state["failingSince"]
        # While open, only one probe at a time reaches the endpoint.
        probes = Tracker(500)
        receiver.default = probes
        seen = len(receiver.requests)
        await receiver.wait_for(seen + 2, timeout=30)
        assert probes.max_in_flight == 1

        receiver.default = 204
        delivered = await eventually(
            lambda: _delivered(api, app_id, endpoint["id"], len(sent)), timeout=30
        )
        assert delivered
        assert {r.headers["webhook-id"] for r in receiver.requests} == sent
        final = await health(api, app_id, endpoint["id"])
        assert final["state"] == "healthy" and final["consecutiveFailures"] == 0


async def _delivered(api: httpx.AsyncClient, app_id: str, endpoint_id: str, count: int) -> bool:
    stats = (await api.get(f"/api/v1/app/{app_id}/endpoint/{endpoint_id}/stats")).json()
    return bool(stats["success"] == count)


async def test_endpoint_failing_longer_than_disable_after_is_disabled(
    engine_server: ServerFactory, receiver: Receiver
) -> None:
    server = engine_server({"HOOKD_DISABLE_AFTER": "1", "HOOKD_RETRY_SCHEDULE": "1,1,1,1,1"})
    receiver.default = 503
    async with client(server) as api:
        app_id = await create_app(api, "disable-after")
        endpoint = await create_endpoint(api, app_id, url=receiver.url)
        url = f"/api/v1/app/{app_id}/endpoint/{endpoint['id']}"
        await send(api, app_id, 1)

        async def disabled() -> bool:
            return bool((await api.get(url)).json()["disabled"])

        await eventually(disabled, timeout=30)
        assert (await health(api, app_id, endpoint["id"]))["state"] == "disabled"
        # Re-enabling starts afresh.
        assert (await api.patch(url, json={"disabled": False})).status_code == 200
        assert (await health(api, app_id, endpoint["id"]))["state"] == "healthy"


async def test_abort_message_header_stops_retrying_that_message(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.responses = [web.Response(status=500, headers={"webhook-delivery": "abort-message"})]
    app_id = await create_app(api, "abort")
    endpoint = await create_endpoint(api, app_id, url=receiver.url)
    msg_id = await send(api, app_id, 1)

    async def failed() -> bool:
        rows = (await api.get(f"/api/v1/app/{app_id}/msg/{msg_id}/endpoint")).json()["data"]
        return bool(rows and rows[0]["statusText"] == "fail")

    # Failed for good after one attempt (the schedule would otherwise retry it three times).
    await eventually(failed)
    attempts = (await api.get(f"/api/v1/app/{app_id}/attempt/msg/{msg_id}")).json()["data"]
    assert [a["responseStatusCode"] for a in attempts] == [500]
    got = (await api.get(f"/api/v1/app/{app_id}/endpoint/{endpoint['id']}")).json()
    assert got["disabled"] is False


async def test_disable_header_disables_the_endpoint(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.default = web.Response(status=200, headers={"webhook-delivery": "disable"})
    app_id = await create_app(api, "disable-header")
    endpoint = await create_endpoint(api, app_id, url=receiver.url)
    msg_id = await send(api, app_id, 1)
    url = f"/api/v1/app/{app_id}/endpoint/{endpoint['id']}"

    async def disabled() -> bool:
        return bool((await api.get(url)).json()["disabled"])

    await eventually(disabled)
    attempts = (await api.get(f"/api/v1/app/{app_id}/attempt/msg/{msg_id}")).json()["data"]
    assert attempts[0]["status"] == 0  # the message itself was delivered
    assert (await health(api, app_id, endpoint["id"]))["state"] == "disabled"


async def test_health_of_an_unknown_endpoint_is_404(api: httpx.AsyncClient) -> None:
    app_id = await create_app(api, "health-404")
    response = await api.get(f"/api/v1/app/{app_id}/endpoint/ep_nope/health")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_manual_resend_probes_an_open_circuit_at_once(
    engine_server: ServerFactory, receiver: Receiver
) -> None:
    server = engine_server(
        {
            "HOOKD_BREAKER_FAILURES": "2",
            "HOOKD_BREAKER_COOLDOWN": "3600",
            "HOOKD_RETRY_SCHEDULE": ",".join(["0.2"] * 5),
        }
    )
    receiver.default = 500
    async with client(server) as api:
        app_id = await create_app(api, "resend-probe")
        endpoint = await create_endpoint(api, app_id, url=receiver.url)
        sent = [await send(api, app_id, n) for n in range(3)]

        async def opened() -> bool:
            state: str = (await health(api, app_id, endpoint["id"]))["state"]
            return state == "circuit_open"

        await eventually(opened, timeout=30)
        receiver.default = 204
        resend = f"/api/v1/app/{app_id}/msg/{sent[0]}/endpoint/{endpoint['id']}/resend"
        assert (await api.post(resend)).status_code == 202
        # The probe succeeds, the circuit closes, and the paused deliveries follow.
        await eventually(lambda: _delivered(api, app_id, endpoint["id"], 3), timeout=30)
        assert (await health(api, app_id, endpoint["id"]))["state"] == "healthy"
