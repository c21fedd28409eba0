"""Svix's send-example through the official SDK: the event type's example, to one endpoint."""

from __future__ import annotations

import json

import httpx
from svix.api import EndpointIn, EventExampleIn, EventTypeIn, SvixAsync

from tests.support import Receiver


async def test_the_example_goes_to_that_endpoint_only(
    svix: SvixAsync, app_id: str, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    name = f"example.{app_id.lower()}"
    await svix.event_type.create(
        EventTypeIn(
            name=name,
            description="an example",
            schemas={"1": {"type": "object", "examples": [{"first": 1}, {"second": 2}]}},
        )
    )
    target = await svix.endpoint.create(app_id, EndpointIn(url=receiver.url_for("/target")))
    await svix.endpoint.create(app_id, EndpointIn(url=receiver.url_for("/other")))

    sent = await svix.endpoint.send_example(
        app_id, target.id, EventExampleIn(event_type=name, example_index=1)
    )
    assert sent.event_type == name and sent.payload == {"second": 2}
    (request,) = await receiver.wait_for(1)
    assert request.path == "/target" and json.loads(request.body) == {"second": 2}
    routed = await api.get(f"/api/v1/app/{app_id}/msg/{sent.id}/endpoint")
    assert [e["id"] for e in routed.json()["data"]] == [target.id]

    bare = await api.post("/api/v1/event-type", json={"name": f"bare.{app_id.lower()}"})
    assert bare.status_code == 201
    refused = await api.post(
        f"/api/v1/app/{app_id}/endpoint/{target.id}/send-example",
        json={"eventType": f"bare.{app_id.lower()}"},
    )
    assert refused.status_code == 422 and refused.json()["code"] == "no_example"
    missing = await api.post(
        f"/api/v1/app/{app_id}/endpoint/{target.id}/send-example", json={"eventType": "nope"}
    )
    assert missing.status_code == 404
