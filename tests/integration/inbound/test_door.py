"""The ingest door in front of FastAPI: /in/{source} answered with the API's shapes, every other
path still the API's, and a 2xx only for what is stored."""

from __future__ import annotations

import asyncio
import sqlite3

import httpx
import orjson

from tests.integration.inbound.conftest import MakeSource
from tests.integration.inbound.signers import stripe_headers
from tests.support import TOKEN, HookdServer, NewServer

SECRET = "whsec_door"


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    return str(body["detail"])


async def test_paths_beside_the_door_are_the_apis(hookd: HookdServer) -> None:
    async with httpx.AsyncClient(base_url=hookd.url, timeout=10) as client:
        assert (await client.get("/api/v1/health")).status_code in (200, 204)
        # Not an ingest URL: FastAPI's 404 in the API's shape.
        for path in ("/in/", "/in/a/b", "/inbound", "/in"):
            _error(await client.post(path, content=b"{}"), 404, "not_found")
        # The management API keeps its authentication.
        _error(await client.get("/api/v1/app"), 401, "authentication_failed")
        authorized = {"Authorization": f"Bearer {TOKEN}"}
        assert (await client.get("/api/v1/app", headers=authorized)).status_code == 200


async def test_error_shapes_and_static_answers(make_source: MakeSource, hookd: HookdServer) -> None:
    _, url, _ = await make_source("stripe", {"secret": SECRET}, forward=False)
    body = orjson.dumps({"id": "evt_door_1", "type": "charge.succeeded"})
    async with httpx.AsyncClient(timeout=10) as client:
        detail = _error(await client.post(f"{hookd.url}/in/no-such-source"), 404, "not_found")
        assert detail == "no source has this ingest URL"

        wrong = await client.put(url, content=body)
        _error(wrong, 405, "method_not_allowed")
        assert wrong.headers["allow"] == "POST"

        too_large = await client.post(url, content=b"x" * (1024 * 1024 + 1))
        _error(too_large, 413, "payload_too_large")

        forged = stripe_headers(body, "whsec_someone_else")
        refused = await client.post(url, content=body, headers=forged)
        assert _error(refused, 401, "signature_mismatch") == "signature does not match"

        unsigned = await client.post(url, content=body)
        assert _error(unsigned, 401, "missing_header") == "missing header Stripe-Signature"

        accepted = await client.post(url, content=body, headers=stripe_headers(body, SECRET))
        assert accepted.status_code == 200
        assert accepted.content == b'{"ok":true}'
        assert accepted.headers["content-type"] == "application/json"
        assert accepted.headers["content-length"] == str(len(accepted.content))


async def test_configured_and_provider_default_answers(
    api: httpx.AsyncClient, hookd: HookdServer
) -> None:
    fields = {
        "name": "custom",
        "type": "generic-webhook",
        "config": {"auth": "none"},
        "response": {"statusCode": 202, "contentType": "text/plain", "body": "thanks"},
    }
    created = await api.post("/ingest/api/v1/source", json=fields)
    assert created.status_code == 201, created.text
    discord = await api.post(
        "/ingest/api/v1/source",
        json={"name": "d", "type": "generic-webhook", "config": {"auth": "none"},
              "response": {"statusCode": 204, "body": ""}},
    )  # fmt: skip
    assert discord.status_code == 201, discord.text
    async with httpx.AsyncClient(timeout=10) as client:
        custom = await client.post(created.json()["ingestUrl"], content=b"{}")
        assert (custom.status_code, custom.content) == (202, b"thanks")
        assert custom.headers["content-type"] == "text/plain; charset=utf-8"
        empty = await client.post(discord.json()["ingestUrl"], content=b"{}")
        assert (empty.status_code, empty.content) == (204, b"")
        assert "content-length" not in empty.headers


async def test_every_2xx_is_stored_when_killed_right_after(
    new_server: NewServer,
) -> None:
    """Many requests in flight share group commits; SIGKILL as soon as answers come back, and
    every request answered 2xx is on disk: exact body, headers, verification and message."""
    server = new_server()
    server.start()
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    ) as api:
        created = await api.post(
            "/ingest/api/v1/source",
            json={"name": "kill", "type": "stripe", "config": {"secret": SECRET}},
        )
        assert created.status_code == 201, created.text
        url = created.json()["ingestUrl"]
    bodies = [
        orjson.dumps({"id": f"evt_kill_{n}", "type": "invoice.paid", "n": n}) for n in range(300)
    ]
    answered: list[bytes] = []

    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=32)) as client:

        async def send(body: bytes) -> None:
            try:
                response = await client.post(
                    url, content=body, headers=stripe_headers(body, SECRET)
                )
            except httpx.HTTPError:
                return  # cut by the kill: never acknowledged
            if response.status_code == 200:
                answered.append(body)
                if len(answered) == 150:
                    server.kill()  # SIGKILL while the rest are in flight

        await asyncio.gather(*(send(body) for body in bodies))

    assert len(answered) >= 150
    with sqlite3.connect(server.data_dir / "hookd.db") as db:
        rows = db.execute(
            "SELECT r.body, r.headers, r.outcome, r.code, m.payload FROM inbound_requests r "
            "JOIN messages m ON m.id = r.msg_id"
        ).fetchall()
    stored = {bytes(body): (orjson.loads(headers), outcome, code, bytes(payload))
              for body, headers, outcome, code, payload in rows}  # fmt: skip
    for body in answered:
        headers, outcome, code, payload = stored[body]
        assert (outcome, code, payload) == ("accepted", "verified", body)
        names = {name for name, _ in headers}
        assert {"stripe-signature", "content-type"} <= names
