"""Each provider's handshake answered exactly as the provider requires, and recorded."""

from __future__ import annotations

import httpx
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.integration.inbound.conftest import MakeSource
from tests.integration.inbound.signers import (
    github_headers,
    hex_hmac,
    now_ts,
    slack_headers,
    twitch_headers,
    zoom_headers,
)
from tests.support import Receiver

GRAPH_TOKEN = (
    "Validation: Testing client application reachability for subscription Request-Id: 25b4"
)


async def outcomes(api: httpx.AsyncClient, source_id: str) -> list[str]:
    response = await api.get(f"/ingest/api/v1/source/{source_id}/request")
    return [r["outcome"] for r in response.json()["data"]]


async def test_slack_url_verification(make_source: MakeSource, api: httpx.AsyncClient) -> None:
    secret = "slack-signing-secret"
    source_id, url, _ = await make_source("slack", {"secret": secret}, forward=False)
    body = orjson.dumps(
        {
            "type": "url_verification",
            "token": "t",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        }
    )
    response = httpx.post(url, content=body, headers=slack_headers(body, secret))
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    assert httpx.post(url, content=body).status_code == 401  # unsigned: no challenge echoed
    assert await outcomes(api, source_id) == ["rejected", "handshake"]


async def test_meta_hub_challenge(make_source: MakeSource) -> None:
    config = {"secret": "meta-app-secret", "verifyToken": "my-verify-token"}
    _, url, _ = await make_source("meta", config, forward=False)
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": "my-verify-token",
        "hub.challenge": "1158201444",
    }
    response = httpx.get(url, params=query)
    assert (response.status_code, response.text) == (200, "1158201444")
    assert response.headers["content-type"].startswith("text/plain")
    wrong = httpx.get(url, params=query | {"hub.verify_token": "guess"})
    assert wrong.status_code == 403


async def test_zoom_crc(make_source: MakeSource) -> None:
    secret = "zoom-secret-token"
    _, url, _ = await make_source("zoom", {"secret": secret}, forward=False)
    body = orjson.dumps(
        {
            "event": "endpoint.url_validation",
            "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"},
            "event_ts": 1,
        }
    )
    response = httpx.post(url, content=body, headers=zoom_headers(body, secret))
    assert response.status_code == 200
    assert response.json() == {
        "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
        "encryptedToken": hex_hmac(secret, b"qgg8vlvZRS6UYooatFL8Aw"),
    }


async def test_discord_ping(make_source: MakeSource, api: httpx.AsyncClient) -> None:
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw().hex()
    _, url, _ = await make_source(
        "generic-webhook", {"provider": "discord", "publicKey": public}, forward=False
    )
    ping = orjson.dumps({"type": 1, "id": "1", "application_id": "2", "token": "t", "version": 1})
    timestamp = str(now_ts())
    headers = {
        "X-Signature-Ed25519": key.sign(timestamp.encode() + ping).hex(),
        "X-Signature-Timestamp": timestamp,
    }
    response = httpx.post(url, content=ping, headers=headers)
    assert (response.status_code, response.json()) == (200, {"type": 1})
    # Discord checks that a bad signature is refused with 401 before it saves the URL.
    forged = httpx.post(url, content=ping, headers=headers | {"X-Signature-Ed25519": "00" * 64})
    assert forged.status_code == 401


async def test_twitch_challenge(make_source: MakeSource) -> None:
    secret = "twitch-subscription-secret"
    _, url, _ = await make_source(
        "generic-webhook", {"provider": "twitch", "secret": secret}, forward=False
    )
    body = orjson.dumps({"challenge": "pogchamp-kappa-360noscope-vohiyo", "subscription": {}})
    response = httpx.post(
        url, content=body, headers=twitch_headers(body, secret, "webhook_callback_verification")
    )
    assert (response.status_code, response.text) == (200, "pogchamp-kappa-360noscope-vohiyo")
    assert response.headers["content-type"].startswith("text/plain")


async def test_microsoft_graph_validation_token(make_source: MakeSource) -> None:
    _, url, _ = await make_source(
        "generic-webhook", {"provider": "microsoft-graph", "secret": "client-state"}, forward=False
    )
    response = httpx.post(
        url,
        params={"validationToken": GRAPH_TOKEN},
    )
    assert response.status_code == 200
    assert (
        response.text
        == "Validation: Testing client application reachability for subscription Request-Id: 25b4"
    )
    assert response.headers["content-type"].startswith("text/plain")


async def test_github_ping(make_source: MakeSource, api: httpx.AsyncClient) -> None:
    secret = "github-secret"
    source_id, url, _ = await make_source("github", {"secret": secret}, forward=False)
    body = orjson.dumps({"zen": "Keep it logically awesome.", "hook_id": 1})
    response = httpx.post(url, content=body, headers=github_headers(body, secret, "ping"))
    assert (response.status_code, response.json()) == (200, {"ok": True})
    assert await outcomes(api, source_id) == ["handshake"]


def assert_refusal(response: httpx.Response, status: int, code: str) -> None:
    """Refused handshakes have every /in/ error's shape (the provider ignores the body)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["code"] == code and body["detail"], body


async def test_zoom_validation_with_a_bad_token_is_refused_not_forwarded(
    make_source: MakeSource, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    secret = "zoom-secret-token"
    source_id, url, _ = await make_source("zoom", {"secret": secret})
    for token in ("v0:1:{}", "", "x" * 129, "<b>"):
        body = orjson.dumps({"event": "endpoint.url_validation", "payload": {"plainToken": token}})
        response = httpx.post(url, content=body, headers=zoom_headers(body, secret))
        assert_refusal(response, 400, "malformed_challenge")
    # The next, genuine event is the first (and only) request the endpoint receives.
    event = orjson.dumps({"event": "meeting.started", "event_ts": 1, "payload": {}})
    assert httpx.post(url, content=event, headers=zoom_headers(event, secret)).status_code == 200
    received = await receiver.wait_for(1)
    assert [r.body for r in received] == [event]
    # The four refusals came from one address with one code: counted on one record.
    records = (await api.get(f"/ingest/api/v1/source/{source_id}/request")).json()["data"]
    assert [(r["outcome"], r["requestCount"]) for r in records] == [
        ("accepted", 1),
        ("rejected", 4),
    ]


async def test_refused_handshakes_answer_json(make_source: MakeSource) -> None:
    config = {"secret": "meta-app-secret", "verifyToken": "my-verify-token"}
    _, meta_url, _ = await make_source("meta", config, forward=False)
    query = {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"}
    assert_refusal(httpx.get(meta_url, params=query), 403, "token_mismatch")
    query |= {"hub.verify_token": "my-verify-token", "hub.challenge": "<script>"}
    assert_refusal(httpx.get(meta_url, params=query), 400, "malformed_challenge")
    assert_refusal(httpx.get(meta_url, params={"hub.mode": "x"}), 400, "malformed_handshake")

    _, graph_url, _ = await make_source(
        "generic-webhook", {"provider": "microsoft-graph", "secret": "state"}, forward=False
    )
    refused = httpx.post(graph_url, params={"validationToken": "<b>hi</b>"})
    assert_refusal(refused, 400, "malformed_challenge")

    secret = "twitch-subscription-secret"
    _, twitch_url, _ = await make_source(
        "generic-webhook", {"provider": "twitch", "secret": secret}, forward=False
    )
    body = orjson.dumps({"challenge": "<svg onload=x>", "subscription": {}})
    headers = twitch_headers(body, secret, "webhook_callback_verification")
    refused = httpx.post(twitch_url, content=body, headers=headers)
    assert_refusal(refused, 400, "malformed_challenge")
