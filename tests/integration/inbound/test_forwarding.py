"""Verified requests are stored, answered and forwarded byte for byte; the rest are not."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import orjson
import standardwebhooks

from tests.integration.inbound.conftest import MakeSource
from tests.integration.inbound.signers import (
    github_headers,
    standard_headers,
    stripe_headers,
    twilio_signature,
)
from tests.support import TOKEN, Receiver, eventually

STRIPE_SECRET = "whsec_integration_stripe"
GITHUB_SECRET = "github-integration-secret"
SUCCESS, FAIL = 0, 2  # Svix's MessageStatus


def lowered(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


async def requests_of(
    api: httpx.AsyncClient, source_id: str, **params: str
) -> list[dict[str, Any]]:
    response = await api.get(f"/ingest/api/v1/source/{source_id}/request", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


async def test_stripe_event_is_forwarded_byte_for_byte_and_signed_by_hookd(
    make_source: MakeSource, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    source_id, url, secret = await make_source("stripe", {"secret": STRIPE_SECRET})
    # Odd spacing and key order: only the exact bytes carry Stripe's signature.
    body = b'{ "id": "evt_1", "type": "invoice.paid",  "data": {"object": {"amount": 10}} }\n'
    headers = stripe_headers(body, STRIPE_SECRET) | {
        "X-Custom-Trace": "trace-1",
        "Authorization": "Bearer for-hookd-only",
    }
    response = httpx.post(url, content=body, headers=headers)
    assert (response.status_code, response.json()) == (200, {"ok": True})

    (forwarded,) = await receiver.wait_for(1)
    assert forwarded.body == body
    sent = lowered(forwarded.headers)
    assert sent["content-type"] == "application/json; charset=utf-8"
    assert sent["stripe-signature"] == headers["Stripe-Signature"]
    assert sent["x-custom-trace"] == "trace-1"
    assert "authorization" not in sent and sent["host"] == f"127.0.0.1:{receiver.port}"
    standardwebhooks.Webhook(secret).verify(forwarded.body, forwarded.headers)

    (record,) = await requests_of(api, source_id)
    assert record["outcome"] == "accepted"
    assert record["eventType"] == "stripe.invoice.paid"
    assert record["dedupKey"] == "evt_1"
    assert record["verification"] == {"ok": True, "code": "verified", "reason": "verified"}
    message = (await api.get(f"/api/v1/app/{source_id}/msg/{record['msgId']}")).json()
    assert message["eventType"] == "stripe.invoice.paid"
    assert message["payload"]["id"] == "evt_1"


async def test_form_encoded_twilio_request_keeps_its_content_type(
    make_source: MakeSource, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    token = "twilio-auth-token"
    # The Svix SDK knows no "twilio" type: generic-webhook with config.provider selects it.
    source_id, url, _ = await make_source(
        "generic-webhook", {"provider": "twilio", "secret": token}
    )
    params = {"MessageSid": "SM1", "MessageStatus": "delivered", "Body": "héllo & bye"}
    signature = twilio_signature(url, params, token)
    response = httpx.post(url, data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert b"<Response>" in response.content

    (forwarded,) = await receiver.wait_for(1)
    assert lowered(forwarded.headers)["content-type"] == "application/x-www-form-urlencoded"
    assert forwarded.body == httpx.QueryParams(params).__str__().encode()
    (record,) = await requests_of(api, source_id)
    assert record["eventType"] == "twilio.message.delivered"
    message = (await api.get(f"/api/v1/app/{source_id}/msg/{record['msgId']}")).json()
    assert message["payload"] == {}  # not JSON: the ingest API shows the raw body


async def test_bad_signature_is_refused_recorded_and_not_forwarded(
    make_source: MakeSource, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    source_id, url, _ = await make_source("stripe", {"secret": STRIPE_SECRET})
    body = orjson.dumps({"id": "evt_forged", "type": "charge.succeeded"})
    headers = stripe_headers(body, "whsec_someone_else")
    response = httpx.post(url, content=body, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"code": "signature_mismatch", "detail": "signature does not match"}
    missing = httpx.post(url, content=body)
    assert missing.json()["code"] == "missing_header"

    records = await requests_of(api, source_id, outcome="rejected")
    assert [r["verification"]["code"] for r in records] == ["missing_header", "signature_mismatch"]
    assert all(r["msgId"] is None and r["responseStatusCode"] == 401 for r in records)
    detail = (await api.get(f"/ingest/api/v1/source/{source_id}/request/{records[1]['id']}")).json()
    assert detail["bodyText"] == body.decode()
    assert detail["verification"]["reason"] == "signature does not match"
    assert detail["forwardedTo"] == []
    await receiver_stays_empty(receiver, api, source_id)


async def receiver_stays_empty(receiver: Receiver, api: httpx.AsyncClient, source_id: str) -> None:
    """Nothing was forwarded and nothing will be: the source's application holds no message."""
    await forwarding_settled(api, source_id, messages=0)
    assert receiver.requests == []


async def test_duplicate_gets_2xx_is_recorded_and_not_forwarded_again(
    make_source: MakeSource, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    source_id, url, _ = await make_source("github", {"secret": GITHUB_SECRET})
    body = orjson.dumps({"ref": "refs/heads/main"})
    headers = github_headers(body, GITHUB_SECRET, "push", delivery="delivery-1")
    assert httpx.post(url, content=body, headers=headers).status_code == 200
    again = httpx.post(url, content=body, headers=headers)
    assert again.status_code == 200
    await receiver.wait_for(1)
    await receiver_stays_empty_after(receiver, 1, api, source_id, messages=1)
    outcomes = [r["outcome"] for r in await requests_of(api, source_id)]
    assert outcomes == ["duplicate", "accepted"]


async def receiver_stays_empty_after(
    receiver: Receiver, count: int, api: httpx.AsyncClient, source_id: str, messages: int
) -> None:
    """No more than ``count`` requests arrive: every delivery is recorded as done."""
    await forwarding_settled(api, source_id, messages)
    assert len(receiver.requests) == count


async def forwarding_settled(api: httpx.AsyncClient, source_id: str, messages: int) -> None:
    """Wait until the source's application holds ``messages`` messages and every delivery of
    each (written with the message; none for an endpoint whose filter refuses it) has a final
    outcome recorded: nothing more will be forwarded."""
    base = f"/api/v1/app/{source_id}/msg"

    async def settled() -> bool:
        stored = (await api.get(base)).json()["data"]
        assert len(stored) == messages, stored
        for message in stored:
            destinations = (await api.get(f"{base}/{message['id']}/endpoint")).json()["data"]
            if any(d["status"] not in (SUCCESS, FAIL) for d in destinations):
                return False
        return True

    await eventually(settled)


async def test_event_types_drive_endpoint_filter_types(
    make_source: MakeSource, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    source_id, url, _ = await make_source("github", {"secret": GITHUB_SECRET}, forward=False)
    # filterTypes is hookd's addition to Svix's IngestEndpointIn: sent as raw JSON.
    created = await api.post(
        f"/ingest/api/v1/source/{source_id}/endpoint",
        json={"url": receiver.url, "filterTypes": ["github.push"]},
    )
    assert created.status_code == 201, created.text
    for event in ("issues", "push", "star"):
        body = orjson.dumps({"event": event})
        assert httpx.post(url, content=body, headers=github_headers(body, GITHUB_SECRET, event))
    (forwarded,) = await receiver.wait_for(1)
    assert lowered(forwarded.headers)["x-github-event"] == "push"
    await receiver_stays_empty_after(receiver, 1, api, source_id, messages=3)
    types = sorted(r["eventType"] for r in await requests_of(api, source_id))
    assert types == ["github.issues", "github.push", "github.star"]


async def test_ip_allowlist(
    make_source: MakeSource, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    strangers, _, _ = await make_source(
        "generic-webhook",
        {"provider": "standard-webhooks", "secret": secret, "allowedIps": ["192.0.2.0/24"]},
        forward=False,
    )
    friends_id, friends_url, _ = await make_source(
        "generic-webhook",
        {"provider": "standard-webhooks", "secret": secret, "allowedIps": ["127.0.0.0/8"]},
    )
    strangers_url = (await api.get(f"/ingest/api/v1/source/{strangers}")).json()["ingestUrl"]
    body = orjson.dumps({"type": "user.created"})
    refused = httpx.post(strangers_url, content=body, headers=standard_headers(body, secret, "m1"))
    assert (refused.status_code, refused.json()["code"]) == (401, "ip_not_allowed")
    (record,) = await requests_of(api, strangers)
    assert record["verification"]["reason"] == "remote address 127.0.0.1 is not allowed"
    accepted = httpx.post(friends_url, content=body, headers=standard_headers(body, secret, "m2"))
    assert accepted.status_code == 200
    (forwarded,) = await receiver.wait_for(1)
    # hookd signs with its own webhook-* headers; the provider's are not passed on.
    standardwebhooks.Webhook(await endpoint_secret(api, friends_id)).verify(
        forwarded.body, forwarded.headers
    )
    assert forwarded.headers["webhook-id"] != "m2"


async def endpoint_secret(api: httpx.AsyncClient, source_id: str) -> str:
    endpoints = (await api.get(f"/ingest/api/v1/source/{source_id}/endpoint")).json()["data"]
    url = f"/ingest/api/v1/source/{source_id}/endpoint/{endpoints[0]['id']}/secret"
    return str((await api.get(url)).json()["key"])


async def test_only_the_token_opens_the_ingest_url(
    make_source: MakeSource, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    # The source's id and uid name it in the management API only: a uid is guessable
    # (``/in/stripe-prod``), and neither changes when the token is rotated.
    source_id, url, _ = await make_source("github", {"secret": GITHUB_SECRET})
    uid = (await api.get(f"/ingest/api/v1/source/{source_id}")).json()["uid"]
    base = url.rsplit("/", 1)[0]
    body = orjson.dumps({"n": str(uuid.uuid4())})
    for key in (source_id, uid):
        headers = github_headers(body, GITHUB_SECRET, "push")
        response = httpx.post(f"{base}/{key}", content=body, headers=headers)
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    headers = github_headers(body, GITHUB_SECRET, "push")
    assert httpx.post(url, content=body, headers=headers).status_code == 200
    await receiver.wait_for(1)
    assert TOKEN not in url
    assert len(await requests_of(api, source_id)) == 1


async def test_concurrent_copies_of_one_event_are_accepted_once(
    make_source: MakeSource, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    # Requests that arrive together are written in one transaction (group commit): a copy in
    # the same batch must still be seen as a duplicate, and the others still stored.
    source_id, url, _ = await make_source("stripe", {"secret": STRIPE_SECRET})
    same = orjson.dumps({"id": "evt_same", "type": "charge.succeeded"})
    others = [orjson.dumps({"id": f"evt_{i}", "type": "charge.succeeded"}) for i in range(4)]
    bodies = [same] * 6 + others
    async with httpx.AsyncClient() as client:
        responses = await asyncio.gather(
            *(
                client.post(url, content=body, headers=stripe_headers(body, STRIPE_SECRET))
                for body in bodies
            )
        )
    assert [r.status_code for r in responses] == [200] * len(bodies)
    records = await requests_of(api, source_id)
    accepted = sorted(r["dedupKey"] for r in records if r["outcome"] == "accepted")
    assert accepted == ["evt_0", "evt_1", "evt_2", "evt_3", "evt_same"]
    assert sum(r["outcome"] == "duplicate" for r in records) == 5
    await receiver.wait_for(5)
