"""A correctly signed body that a JSON provider never sends (text, an array, nothing) is
refused with 400 ``malformed_body`` and never forwarded. Bodies are signed with the providers'
own libraries where the dev extra has them (stripe, slack_sdk, standardwebhooks)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.integration.inbound.conftest import MakeSource
from tests.integration.inbound.signers import (
    github_headers,
    hex_hmac,
    now_ts,
    slack_headers,
    standard_headers,
    stripe_headers,
    twitch_headers,
    zoom_headers,
)
from tests.support import Receiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
DISCORD_KEY = Ed25519PrivateKey.generate()
NOT_OBJECTS = [b"plain text", b"[1, 2]", b""]


def _shopify(body: bytes) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
    return {"X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(), "X-Shopify-Topic": "x"}


def _paddle(body: bytes) -> dict[str, str]:
    ts = now_ts()
    return {"Paddle-Signature": f"ts={ts};h1={hex_hmac(SECRET, f'{ts}:'.encode() + body)}"}


def _discord(body: bytes) -> dict[str, str]:
    timestamp = str(now_ts())
    signature = DISCORD_KEY.sign(timestamp.encode() + body).hex()
    return {"X-Signature-Ed25519": signature, "X-Signature-Timestamp": timestamp}


def _meta(body: bytes) -> dict[str, str]:
    return {"X-Hub-Signature-256": "sha256=" + hex_hmac(SECRET, body)}


Signer = Callable[[bytes], dict[str, str]]
PUBLIC_KEY = DISCORD_KEY.public_key().public_bytes_raw().hex()
# provider -> (config, signer)
PROVIDERS: dict[str, tuple[dict[str, Any], Signer]] = {
    "stripe": ({"secret": SECRET}, lambda body: stripe_headers(body, SECRET)),
    "slack": ({"secret": SECRET}, lambda body: slack_headers(body, SECRET)),
    "standard-webhooks": (
        {"secret": SECRET},
        lambda body: standard_headers(body, SECRET, f"msg_{uuid.uuid4().hex}"),
    ),
    "svix": ({"secret": SECRET}, lambda body: standard_headers(body, SECRET, "msg_1")),
    "github": ({"secret": SECRET}, lambda body: github_headers(body, SECRET, "push")),
    "shopify": ({"secret": SECRET}, _shopify),
    "paddle": ({"secret": SECRET}, _paddle),
    "zoom": ({"secret": SECRET}, lambda body: zoom_headers(body, SECRET)),
    "twitch": ({"secret": SECRET}, lambda body: twitch_headers(body, SECRET, "notification")),
    "meta": ({"secret": SECRET, "verifyToken": "v"}, _meta),
    "gitlab": ({"secret": SECRET}, lambda body: {"X-Gitlab-Token": SECRET}),
    "discord": ({"publicKey": PUBLIC_KEY}, _discord),
}


async def test_signed_bodies_that_are_not_json_objects_are_refused(
    make_source: MakeSource, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    urls: dict[str, str] = {}
    for provider, (config, _) in PROVIDERS.items():
        _, urls[provider], _ = await make_source(
            "generic-webhook", {"provider": provider, **config}
        )
    async with httpx.AsyncClient(timeout=10) as client:
        for provider, (_, sign) in PROVIDERS.items():
            for body in NOT_OBJECTS:
                response = await client.post(urls[provider], content=body, headers=sign(body))
                assert response.status_code == 400, (provider, body, response.text)
                assert response.headers["content-type"] == "application/json"
                assert response.json()["code"] == "malformed_body", (provider, body)
        # Then one genuine event each: those are all the endpoint ever receives.
        goods = {}
        for provider, (_, sign) in PROVIDERS.items():
            good = orjson.dumps({"id": f"evt_{provider}", "type": 2, "event": "e", "data": {}})
            goods[provider] = good
            response = await client.post(urls[provider], content=good, headers=sign(good))
            assert response.status_code in (200, 204), (provider, response.text)
    received = await receiver.wait_for(len(PROVIDERS))
    assert sorted(r.body for r in received) == sorted(goods.values())
    source_id = urls["stripe"]  # the records say why: code and the 400 answered
    stripe_id = next(
        s["id"]
        for s in (await api.get("/ingest/api/v1/source")).json()["data"]
        if s["ingestUrl"] == source_id
    )
    records = (await api.get(f"/ingest/api/v1/source/{stripe_id}/request")).json()["data"]
    refused = [r for r in records if r["outcome"] == "rejected"]
    # One address, one code: the refusals are counted on one record.
    assert [
        (r["verification"]["code"], r["responseStatusCode"], r["requestCount"]) for r in refused
    ] == [("malformed_body", 400, len(NOT_OBJECTS))]
