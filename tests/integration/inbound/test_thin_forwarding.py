"""Thin forwarding: a JSON notification goes out, the original request waits behind the link."""

from __future__ import annotations

import httpx
import orjson
import standardwebhooks

from tests.integration.inbound.conftest import MakeSource
from tests.integration.inbound.signers import twilio_signature
from tests.support import Receiver


async def test_thin_forwarding_links_to_the_original_body_and_content_type(
    make_source: MakeSource, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    token = "twilio-auth-token"
    source_id, url, _ = await make_source(
        "generic-webhook", {"provider": "twilio", "secret": token}, forward=False
    )
    # The Svix SDK's IngestEndpointIn has no "thin": hookd's own field goes over plain HTTP.
    endpoints = f"/ingest/api/v1/source/{source_id}/endpoint"
    created = await api.post(endpoints, json={"url": receiver.url, "thin": True})
    assert created.status_code == 201 and created.json()["thin"] is True
    secret = (await api.get(f"{endpoints}/{created.json()['id']}/secret")).json()["key"]
    params = {"MessageSid": "SM1", "MessageStatus": "delivered", "Body": "héllo & bye"}
    response = httpx.post(
        url, data=params, headers={"X-Twilio-Signature": twilio_signature(url, params, token)}
    )
    assert response.status_code == 200

    (notification,) = await receiver.wait_for(1)
    standardwebhooks.Webhook(secret).verify(notification.body, notification.headers)
    assert notification.headers["Content-Type"] == "application/json"
    assert "X-Twilio-Signature" not in notification.headers  # it signs the original body only
    thin = orjson.loads(notification.body)
    assert thin["type"] == "twilio.message.delivered"

    async with httpx.AsyncClient() as anonymous:
        original = await anonymous.get(thin["url"])
    assert original.status_code == 200
    assert original.headers["content-type"] == "application/x-www-form-urlencoded"
    assert original.content == str(httpx.QueryParams(params)).encode()
