"""Payload shapes end to end: thin webhooks and their links, pinned versions, schema validation."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import orjson
import pytest
import standardwebhooks
from svix.api import ApplicationIn, EventTypeIn, MessageIn, SvixAsync
from svix.exceptions import HTTPValidationError

from hookd.core.payloads.links import sign_link
from hookd.store import sealing
from tests.conftest import svix_for
from tests.integration.test_bad_input import assert_error
from tests.support import MAIN_KEY, HookdServer, Receiver

PAYLOAD = {"invoice": "in_1", "amount": 1250, "note": "naïve ✓"}


async def create_endpoint(api: httpx.AsyncClient, app_id: str, **fields: Any) -> tuple[str, str]:
    """Create an endpoint with hookd's own fields (the Svix SDK lacks them); id and secret."""
    response = await api.post(f"/api/v1/app/{app_id}/endpoint", json=fields)
    assert response.status_code == 201, response.text
    endpoint = response.json()
    secret = (await api.get(f"/api/v1/app/{app_id}/endpoint/{endpoint['id']}/secret")).json()
    return endpoint["id"], secret["key"]


async def link_key(server: HookdServer) -> bytes:
    """The server's thin-link key, read from its database (to sign links a test needs) and
    opened with the server's main key (stored keys are sealed: store.sealing)."""
    url = server.env.get("HOOKD_DATABASE_URL")
    if url is None:
        with sqlite3.connect(server.data_dir / "hookd.db") as conn:
            row = conn.execute("SELECT key FROM server_keys WHERE name = 'thin_links'").fetchone()
        stored = bytes(row[0])
        key_file = server.data_dir / "main_key"
    else:
        conn = await asyncpg.connect(url)
        try:
            query = "SELECT key FROM server_keys WHERE name = 'thin_links'"
            stored = bytes(await conn.fetchval(query))
        finally:
            await conn.close()
        key_file = server.data_dir / ".hookd" / "main_key"  # the default data directory
    keys = server.env.get("HOOKD_MAIN_KEY", MAIN_KEY) or key_file.read_text()
    keyring = sealing.Keyring(sealing.parse_main_keys(keys))
    return keyring.open(stored.decode(), "server_keys.key")


async def test_thin_delivery_verifies_and_its_link_returns_the_exact_payload(
    hookd: HookdServer, svix: SvixAsync, api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    endpoint_id, secret = await create_endpoint(api, app_id, url=receiver.url, thin=True)
    assert (await api.get(f"/api/v1/app/{app_id}/endpoint/{endpoint_id}")).json()["thin"] is True
    msg = await svix.message.create(app_id, MessageIn(event_type="invoice.paid", payload=PAYLOAD))

    [request] = await receiver.wait_for(1)
    standardwebhooks.Webhook(secret).verify(request.body, request.headers)
    thin = orjson.loads(request.body)
    assert set(thin) == {"id", "type", "timestamp", "url"}
    assert thin["id"] == msg.id == request.headers["webhook-id"]
    assert thin["type"] == "invoice.paid"
    assert datetime.fromisoformat(thin["timestamp"]) == msg.timestamp
    assert request.headers["webhook-version"] == "1"
    assert thin["url"].startswith(f"{hookd.url}/api/v1/payload/{msg.id}?")

    async with httpx.AsyncClient() as anonymous:  # no admin token: the link is the credential
        fetched = await anonymous.get(thin["url"])
    assert fetched.status_code == 200, fetched.text
    stored = await api.get(f"/api/v1/app/{app_id}/msg/{msg.id}")
    assert orjson.loads(fetched.content) == PAYLOAD == stored.json()["payload"]
    assert fetched.content == orjson.dumps(PAYLOAD)  # the exact bytes accepted
    assert fetched.headers["content-type"] == "application/json"
    assert fetched.headers["cache-control"] == "no-store"


def other_first_character(text: str) -> str:
    return ("B" if text[0] == "A" else "A") + text[1:]


async def test_forged_expired_and_dangling_links_are_refused(
    hookd: HookdServer, api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    endpoint_id, _ = await create_endpoint(api, app_id, url=receiver.url, thin=True)
    created = await api.post(
        f"/api/v1/app/{app_id}/msg", json={"eventType": "invoice.paid", "payload": PAYLOAD}
    )
    msg_id = created.json()["id"]
    [request] = await receiver.wait_for(1)
    url = orjson.loads(request.body)["url"]
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    base = f"{hookd.url}{parts.path}"

    async with httpx.AsyncClient() as anonymous:
        assert (await anonymous.get(url)).status_code == 200
        for name, value in (
            ("signature", other_first_character(query["signature"])),
            ("expires", str(int(query["expires"]) + 3600)),  # stretching the expiry
            ("version", "2"),
            ("endpoint", "ep_someone_else"),
            ("signature", "x"),
        ):
            response = await anonymous.get(base, params={**query, name: value})
            assert_error(response, 403, "invalid_link")

        expired = sign_link(
            await link_key(hookd), msg_id, endpoint_id, 1, datetime.now(UTC) - timedelta(seconds=1)
        )
        response = await anonymous.get(expired.url(hookd.url))
        assert_error(response, 403, "link_expired")
        assert_error(await anonymous.get(base, params={"endpoint": endpoint_id}), 422)

        assert (await api.delete(f"/api/v1/app/{app_id}/msg/{msg_id}/content")).status_code == 204
        assert_error(await anonymous.get(url), 410, "payload_expunged")
        assert (await api.delete(f"/api/v1/app/{app_id}/endpoint/{endpoint_id}")).status_code == 204
        assert_error(await anonymous.get(url), 404, "not_found")


async def test_a_pinned_endpoint_gets_its_version_and_the_default_the_latest(
    api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    pinned_id, pinned_secret = await create_endpoint(
        api, app_id, url=receiver.url_for("/v1"), version=1
    )
    latest_id, latest_secret = await create_endpoint(api, app_id, url=receiver.url_for("/latest"))
    await create_endpoint(api, app_id, url=receiver.url_for("/thin"), version=1, thin=True)
    unpinned = (await api.get(f"/api/v1/app/{app_id}/endpoint/{latest_id}")).json()
    assert (unpinned["version"], unpinned["versionPinned"]) == (1, False)
    pinned = (await api.get(f"/api/v1/app/{app_id}/endpoint/{pinned_id}")).json()
    assert (pinned["version"], pinned["versionPinned"]) == (1, True)
    v1 = {"amount": "12.50"}
    v2 = {"amount": {"value": 1250, "currency": "EUR"}}

    response = await api.post(
        f"/api/v1/app/{app_id}/msg",
        json={"eventType": "invoice.paid", "payload": v2, "payloadVersions": {"1": v1}},
    )
    assert response.status_code == 201, response.text
    assert response.json()["payloadVersion"] == 2 and response.json()["payload"] == v2

    [old] = await receiver.wait_for(1, path="/v1")
    standardwebhooks.Webhook(pinned_secret).verify(old.body, old.headers)
    assert old.body == orjson.dumps(v1) and old.headers["webhook-version"] == "1"
    [new] = await receiver.wait_for(1, path="/latest")
    standardwebhooks.Webhook(latest_secret).verify(new.body, new.headers)
    assert new.body == orjson.dumps(v2) and new.headers["webhook-version"] == "2"
    [thin] = await receiver.wait_for(1, path="/thin")
    assert thin.headers["webhook-version"] == "1"
    async with httpx.AsyncClient() as anonymous:
        fetched = await anonymous.get(orjson.loads(thin.body)["url"])
    assert fetched.content == orjson.dumps(v1) and fetched.headers["webhook-version"] == "1"

    # Unpinning (null) makes the endpoint take the latest again; a version the message lacks
    # falls back to the latest as well, and the header says which one arrived.
    patched = await api.patch(f"/api/v1/app/{app_id}/endpoint/{pinned_id}", json={"version": None})
    assert (patched.json()["version"], patched.json()["versionPinned"]) == (1, False)
    await api.patch(f"/api/v1/app/{app_id}/endpoint/{latest_id}", json={"version": 7})
    await api.post(
        f"/api/v1/app/{app_id}/msg",
        json={"eventType": "invoice.paid", "payload": v2, "payloadVersions": {"1": v1}},
    )
    for path in ("/v1", "/latest"):
        second = (await receiver.wait_for(2, path=path))[1]
        assert second.body == orjson.dumps(v2) and second.headers["webhook-version"] == "2"


async def test_the_event_types_latest_schema_version_numbers_plain_messages(
    svix: SvixAsync, api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    name = f"order.{uuid.uuid4().hex[:8]}"
    await svix.event_type.create(
        EventTypeIn(name=name, description="x", schemas={"1": {}, "3": {"type": "object"}})
    )
    await create_endpoint(api, app_id, url=receiver.url)
    msg = await svix.message.create(app_id, MessageIn(event_type=name, payload={"a": 1}))
    [request] = await receiver.wait_for(1)
    assert request.headers["webhook-version"] == "3"
    got = await api.get(f"/api/v1/app/{app_id}/msg/{msg.id}")
    assert got.json()["payloadVersion"] == 3


async def test_bad_versions_are_422_and_store_nothing(api: httpx.AsyncClient, app_id: str) -> None:
    url = f"/api/v1/app/{app_id}/msg"
    base = {"eventType": "invoice.paid", "payload": PAYLOAD}
    for extra, loc in (
        ({"payloadVersions": {"abc": {}}}, "payloadVersions"),
        ({"payloadVersions": {"0": {}}}, "payloadVersions"),
        ({"payloadVersions": {"1": []}}, "payloadVersions"),
        ({"payloadVersion": 0}, "payloadVersion"),
        ({"payloadVersion": 2, "payloadVersions": {"2": {}}}, "payloadVersions"),
    ):
        response = await api.post(url, json={**base, **extra})
        assert_error(response, 422, "validation")
        assert response.json()["detail"][0]["loc"][1] == loc, response.text
    response = await api.post(
        f"/api/v1/app/{app_id}/endpoint", json={"url": "https://x.example", "version": 0}
    )
    assert_error(response, 422)
    assert (await api.get(url)).json()["data"] == []


async def test_schema_validation_refuses_with_the_path_and_accepts_valid_payloads(
    svix: SvixAsync, api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    name = f"invoice.{uuid.uuid4().hex[:8]}"
    schema_v1 = {
        "type": "object",
        "required": ["amount"],
        "properties": {"amount": {"type": "string"}},
    }
    schema_v2 = {
        "type": "object",
        "required": ["amount"],
        "properties": {"amount": {"type": "object", "required": ["value"]}},
    }
    await svix.event_type.create(
        EventTypeIn(name=name, description="paid", schemas={"1": schema_v1, "2": schema_v2})
    )
    await create_endpoint(api, app_id, url=receiver.url)
    url = f"/api/v1/app/{app_id}/msg"
    bad = {"eventType": name, "payload": {"amount": {"currency": "EUR"}}}

    response = await api.post(url, params={"validate": "true"}, json=bad)
    assert_error(response, 422, "schema_violation")
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "payload", "amount"]
    assert "'value' is a required property" in problem["msg"] and "version 2" in problem["msg"]

    bad_v1 = {
        "eventType": name,
        "payload": {"amount": {"value": 1}},
        "payloadVersions": {"1": {"amount": 5}},
    }
    response = await api.post(url, params={"validate": "true"}, json=bad_v1)
    assert_error(response, 422, "schema_violation")
    assert response.json()["detail"][0]["loc"] == ["body", "payloadVersions", "1", "amount"]
    assert (await api.get(url)).json()["data"] == []  # nothing stored on failure
    assert receiver.requests == []

    good = {
        "eventType": name,
        "payload": {"amount": {"value": 1}},
        "payloadVersions": {"1": {"amount": "1"}},
    }
    response = await api.post(url, params={"validate": "true"}, json=good)
    assert response.status_code == 201, response.text
    # Validation is asked for: without it (and HOOKD_VALIDATE_PAYLOADS off) anything goes.
    assert (await api.post(url, json=bad)).status_code == 201
    await receiver.wait_for(2)


async def test_the_server_setting_validates_svix_sdk_messages(new_server: Any) -> None:
    server: HookdServer = new_server({"HOOKD_VALIDATE_PAYLOADS": "true"})
    server.start()
    svix = svix_for(server)
    name = "user.created"
    schema = {"type": "object", "properties": {"age": {"type": "integer", "minimum": 0}}}
    await svix.event_type.create(EventTypeIn(name=name, description="x", schemas={"1": schema}))
    app = await svix.application.create(ApplicationIn(name="validated"))
    with pytest.raises(HTTPValidationError) as exc:
        await svix.message.create(app.id, MessageIn(event_type=name, payload={"age": -1}))
    assert exc.value.detail[0].loc == ["body", "payload", "age"]
    assert "minimum" in exc.value.detail[0].msg
    assert await svix.message.create(app.id, MessageIn(event_type=name, payload={"age": 3}))
    async with httpx.AsyncClient(base_url=server.url) as client:
        # ?validate=false opts a request out of the server-wide default.
        response = await client.post(
            f"/api/v1/app/{app.id}/msg",
            params={"validate": "false"},
            json={"eventType": name, "payload": {"age": -1}},
            headers={"Authorization": "Bearer hk_test_token"},
        )
    assert response.status_code == 201
