"""Operational webhooks: hookd tells the product team about its endpoints, as Svix does.

The operational webhook endpoints are managed with the official Svix SDK; the events arrive at a
real receiver, signed with the operational endpoint's secret (checked with standardwebhooks).
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from standardwebhooks import Webhook
from svix.api import (
    OperationalWebhookEndpointHeadersIn,
    OperationalWebhookEndpointIn,
    OperationalWebhookEndpointSecretIn,
    OperationalWebhookEndpointUpsertIn,
)

from tests.conftest import svix_for
from tests.integration.engine_support import (
    ServerFactory,
    client,
    create_app,
    create_endpoint,
    engine_server,
    send,
)
from tests.support import Received, Receiver, eventually

__all__ = ["engine_server"]

OPS = "/ops"
# The retries come quickly; the circuit breaker would space them out.
NO_BREAKER = {"HOOKD_BREAKER_FAILURES": "100"}


def events(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    """The operational events received so far, each signature verified."""
    hook = Webhook(secret)
    got = []
    for request in receiver.requests:
        if request.path == OPS:
            got.append(hook.verify(request.body, request.headers))
    return got


def of_type(received: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [event["data"] for event in received if event["type"] == event_type]


async def product_fails(request: Received) -> web.Response:
    return web.Response(status=204 if request.path == OPS else 500)


async def test_endpoint_lifecycle_and_failing_messages_are_reported(
    engine_server: ServerFactory, receiver: Receiver
) -> None:
    server = engine_server({"HOOKD_RETRY_SCHEDULE": "0.1,0.1,0.1,0.1,0.1", **NO_BREAKER})
    receiver.default = product_fails
    svix = svix_for(server)
    ops = await svix.operational_webhook.endpoint.create(
        OperationalWebhookEndpointIn(url=receiver.url_for(OPS), description="ops", uid="ops-1")
    )
    assert ops.id.startswith("ep_") and ops.uid == "ops-1" and ops.description == "ops"
    secret = (await svix.operational_webhook.endpoint.get_secret(ops.id)).key
    listed = await svix.operational_webhook.endpoint.list()
    assert [e.id for e in listed.data] == [ops.id]

    async with client(server) as api:
        app_id = await create_app(api, "ops-report")
        # The operational application is hidden from the product's application list.
        apps = (await api.get("/api/v1/app")).json()["data"]
        assert [a["id"] for a in apps] == [app_id]
        endpoint = await create_endpoint(api, app_id, url=receiver.url_for("/product"))
        msg_id = await send(api, app_id, 1, eventId="evt-1")

        async def reported() -> list[dict[str, Any]] | None:
            # Events may arrive in any order: the worker sends them concurrently.
            got = events(receiver, secret)
            wanted = ("endpoint.created", "message.attempt.failing", "message.attempt.exhausted")
            return got if all(of_type(got, t) for t in wanted) else None

        received = await eventually(reported, timeout=60)
        created = of_type(received, "endpoint.created")
        assert created == [
            {"appId": app_id, "appUid": None, "endpointId": endpoint["id"], "endpointUid": None}
        ]
        failing = of_type(received, "message.attempt.failing")
        exhausted = of_type(received, "message.attempt.exhausted")
        assert len(failing) == 1 and len(exhausted) == 1
        for data in (failing[0], exhausted[0]):
            assert data["msgId"] == msg_id and data["msgEventId"] == "evt-1"
            assert data["appId"] == app_id and data["endpointId"] == endpoint["id"]
            assert data["lastAttempt"]["responseStatusCode"] == 500
            assert data["lastAttempt"]["id"].startswith("atmpt_")
        attempts = (await api.get(f"/api/v1/app/{app_id}/attempt/msg/{msg_id}")).json()["data"]
        assert exhausted[0]["lastAttempt"]["id"] in {a["id"] for a in attempts}

        # A manual disable, a re-enable and a delete are reported too.
        url = f"/api/v1/app/{app_id}/endpoint/{endpoint['id']}"
        assert (await api.patch(url, json={"disabled": True})).status_code == 200
        assert (await api.patch(url, json={"disabled": False})).status_code == 200
        assert (await api.delete(url)).status_code == 204

        async def deleted() -> list[dict[str, Any]] | None:
            got = events(receiver, secret)
            done = len(of_type(got, "endpoint.updated")) == 2 and all(
                of_type(got, t)
                for t in ("endpoint.disabled", "endpoint.enabled", "endpoint.deleted")
            )
            return got if done else None

        received = await eventually(deleted, timeout=30)
        disabled = of_type(received, "endpoint.disabled")
        assert [(d["endpointId"], d["trigger"]) for d in disabled] == [(endpoint["id"], "manual")]
        assert [d["endpointId"] for d in of_type(received, "endpoint.enabled")] == [endpoint["id"]]
        assert len(of_type(received, "endpoint.updated")) == 2
        # Nothing is reported about the operational endpoint itself.
        every = [e["data"].get("endpointId") for e in received]
        assert ops.id not in every


async def test_automatic_disable_and_recovery_are_reported_to_subscribed_types(
    engine_server: ServerFactory, receiver: Receiver
) -> None:
    server = engine_server({"HOOKD_RETRY_SCHEDULE": "0.1,0.1,0.1,0.1,0.1,0.1", **NO_BREAKER})
    svix = svix_for(server)
    ops = await svix.operational_webhook.endpoint.create(
        OperationalWebhookEndpointIn(
            url=receiver.url_for(OPS),
            event_types=["endpoint.disabled", "message.attempt.recovered"],
        )
    )
    secret = (await svix.operational_webhook.endpoint.get_secret(ops.id)).key
    product: list[int] = [500, 500, 500, 500, 204]

    async def answer(request: Received) -> web.Response:
        if request.path == OPS:
            return web.Response(status=204)
        if request.path == "/gone":
            # Asks to be disabled, as Svix's delivery-control header does.
            return web.Response(status=410, headers={"webhook-delivery": "disable"})
        return web.Response(status=product.pop(0) if product else 204)

    receiver.default = answer
    async with client(server) as api:
        app_id = await create_app(api, "ops-recover")
        flaky = await create_endpoint(api, app_id, url=receiver.url_for("/flaky"), uid="flaky")
        gone = await create_endpoint(api, app_id, url=receiver.url_for("/gone"), uid="gone")
        await send(api, app_id, 1)

        async def both() -> list[dict[str, Any]] | None:
            got = events(receiver, secret)
            done = of_type(got, "endpoint.disabled") and of_type(got, "message.attempt.recovered")
            return got if done else None

        received = await eventually(both, timeout=60)
        assert {e["type"] for e in received} == {"endpoint.disabled", "message.attempt.recovered"}
        [disabled] = of_type(received, "endpoint.disabled")
        assert disabled["endpointId"] == gone["id"] and disabled["endpointUid"] == "gone"
        assert disabled["trigger"] == "automatic"
        [recovered] = of_type(received, "message.attempt.recovered")
        assert recovered["endpointId"] == flaky["id"]
        assert recovered["lastAttempt"]["responseStatusCode"] == 204


async def test_operational_endpoint_api_with_the_svix_sdk(
    engine_server: ServerFactory, receiver: Receiver
) -> None:
    server = engine_server()
    svix = svix_for(server)
    assert (await svix.operational_webhook.endpoint.list()).data == []
    created = await svix.operational_webhook.endpoint.upsert(
        "ops-upserted",
        OperationalWebhookEndpointUpsertIn(url=receiver.url, throttle_rate=5, metadata={"a": "b"}),
    )
    assert created.uid == "ops-upserted" and created.throttle_rate == 5
    assert created.metadata == {"a": "b"}
    updated = await svix.operational_webhook.endpoint.upsert(
        created.id, OperationalWebhookEndpointUpsertIn(url=receiver.url, disabled=True)
    )
    assert updated.id == created.id and updated.disabled is True
    assert updated.throttle_rate is None
    old = (await svix.operational_webhook.endpoint.get_secret(created.id)).key
    await svix.operational_webhook.endpoint.rotate_secret(
        created.id, OperationalWebhookEndpointSecretIn()
    )
    assert (await svix.operational_webhook.endpoint.get_secret(created.id)).key != old
    await svix.operational_webhook.endpoint.set_headers(
        created.id, OperationalWebhookEndpointHeadersIn(headers={"X-Team": "ops"})
    )
    headers = await svix.operational_webhook.endpoint.get_headers(created.id)
    assert headers.headers == {"X-Team": "ops"}
    await svix.operational_webhook.endpoint.delete(created.id)
    assert (await svix.operational_webhook.endpoint.list()).data == []

    async with client(server) as api:
        missing = await api.get("/api/v1/operational-webhook/endpoint/ep_nope")
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"
        bad = await api.post(
            "/api/v1/operational-webhook/endpoint", json={"url": "ftp://x", "throttleRate": 0}
        )
        assert bad.status_code == 422 and bad.json()["code"] == "validation"
        body = orjson.loads(bad.content)
        assert body["detail"]
