"""`hookd listen` against a live server (docs/listen.md): a provider-signed request posted to a
relay URL reaches a local server byte for byte and verifies with the provider's own library
(stripe); the local answer is the attempt and the provider's response; a relay with no listener
keeps its requests and delivers them when one connects; an application's messages reach the
local server through an ``--app`` listener, filtered by event type."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import standardwebhooks
import stripe
from aiohttp import web

from tests.launcher import HookdProcess, start_hookd
from tests.support import TOKEN, HookdServer, NewServer, eventually, free_port

STRIPE_SECRET = "whsec_listen_test_secret"
LOCAL_ANSWER = b'{"received":true}'


@dataclass
class Local:
    """The developer's local server: records each request raw, answers 201 with a header."""

    port: int = field(default_factory=free_port)
    requests: list[tuple[str, str, list[tuple[str, str]], bytes]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    hold: asyncio.Event | None = None  # set: requests wait for it before they are answered

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append((request.method, request.path_qs, list(request.headers.items()), body))
        self.arrived.set()
        if self.hold is not None:
            await self.hold.wait()
        return web.Response(status=201, body=LOCAL_ANSWER, headers={"X-Local": "yes"})

    async def wait_for(self, count: int) -> None:
        async def enough() -> bool:
            return len(self.requests) >= count

        await eventually(enough)


@pytest.fixture
async def local() -> AsyncIterator[Local]:
    server = Local()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", server.port).start()
    yield server
    await runner.cleanup()


@dataclass
class Listening:
    process: HookdProcess
    stdout: Path
    stderr: Path

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.read_text().splitlines() if line]


@pytest.fixture
def listeners(tmp_path: Path) -> Iterator[list[Listening]]:
    started: list[Listening] = []
    yield started
    for listening in started:
        if listening.process.poll() is None:
            listening.process.terminate()
            listening.process.wait(15)


def _listen(server: HookdServer, started: list[Listening], tmp_path: Path, *args: str) -> Listening:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKD_")}
    n = len(started)
    out, err = tmp_path / f"listen{n}.out", tmp_path / f"listen{n}.err"
    command = ["listen", *args, "--print-json", "--server", server.url, "--token", TOKEN]
    process = start_hookd(command, env=env, cwd=tmp_path, stdout=out, stderr=err)
    listening = Listening(process, out, err)
    started.append(listening)
    return listening


def _api(server: HookdServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    )


async def _connected(api: httpx.AsyncClient, relay: str, listening: Listening) -> dict[str, Any]:
    """The relay once a listener is connected to it (the command made it)."""

    async def check() -> dict[str, Any] | None:
        assert listening.process.poll() is None, listening.stderr.read_text()
        answer = await api.get(f"/api/v1/relay/{relay}")
        if answer.status_code == 200 and answer.json()["listeners"] >= 1:
            found: dict[str, Any] = answer.json()
            return found
        return None

    found: dict[str, Any] = await eventually(check, timeout=30)
    return found


def _stripe_event() -> tuple[bytes, str]:
    # Spacing and key order a re-serialization would change: the signature covers these bytes.
    payload = (
        '{"id": "evt_listen",  "object":"event", "type": "invoice.paid", "data": {"object": {}}}'
    )
    header = stripe.WebhookSignature.generate_signature_header(
        payload, STRIPE_SECRET, timestamp=int(time.time())
    )
    return payload.encode(), header


async def test_signed_request_arrives_byte_identical_and_the_local_answer_returns(
    hookd: HookdServer, local: Local, listeners: list[Listening], tmp_path: Path
) -> None:
    listening = _listen(hookd, listeners, tmp_path, "--forward-to", local.url, "--relay", "t-sync")
    async with _api(hookd) as api:
        relay = await _connected(api, "t-sync", listening)
        body, signature = _stripe_event()
        async with httpx.AsyncClient(timeout=30) as provider:
            answer = await provider.post(
                relay["url"] + "/stripe?attempt=1",
                content=body,
                headers={"Content-Type": "application/json", "Stripe-Signature": signature},
            )
        # The provider gets the local server's answer.
        assert answer.status_code == 201, answer.text
        assert answer.content == LOCAL_ANSWER
        assert answer.headers["x-local"] == "yes"

        method, path_qs, headers, received = local.requests[0]
        assert (method, path_qs) == ("POST", "/webhooks/stripe?attempt=1")
        assert received == body
        sent = {name.lower(): value for name, value in headers}
        assert sent["stripe-signature"] == signature
        event = stripe.Webhook.construct_event(received, sent["stripe-signature"], STRIPE_SECRET)
        assert event["type"] == "invoice.paid"

        # The local answer is the attempt, recorded by the delivery engine.
        endpoints = (await api.get(f"/ingest/api/v1/source/{relay['id']}/endpoint")).json()
        (endpoint,) = endpoints["data"]
        assert endpoint["url"] == f"relay://{relay['id']}"
        attempts = await api.get(f"/api/v1/app/{relay['id']}/attempt/endpoint/{endpoint['id']}")
        (attempt,) = attempts.json()["data"]
        assert attempt["responseStatusCode"] == 201
        assert attempt["response"] == LOCAL_ANSWER.decode()

    async def shown() -> list[dict[str, Any]]:
        return listening.lines()

    (line,) = await eventually(shown)
    assert (line["method"], line["path"], line["status"]) == ("POST", "/stripe", 201)
    assert line["eventType"] == "invoice.paid"


async def test_a_relay_keeps_requests_until_a_listener_connects(
    hookd: HookdServer, local: Local, listeners: list[Listening], tmp_path: Path
) -> None:
    async with _api(hookd) as api:
        made = await api.put("/api/v1/relay/t-kept", json={"name": "kept"})
        assert made.status_code == 200, made.text
        relay = made.json()
        assert relay["listeners"] == 0
        async with httpx.AsyncClient(timeout=30) as provider:
            stored = await provider.post(relay["url"], content=b"first")
            again = await provider.put(relay["url"] + "/x?y=2", content=b"second")
        # Stored (persist-then-ack), nobody to answer yet.
        assert (stored.status_code, stored.json()) == (202, {"stored": True})
        assert again.status_code == 202
        listening = _listen(
            hookd, listeners, tmp_path, "--forward-to", local.url, "--relay", "t-kept"
        )
        await local.wait_for(2)
        got = sorted((m, p, b) for m, p, _, b in local.requests)
        assert got == [("POST", "/webhooks", b"first"), ("PUT", "/webhooks/x?y=2", b"second")]

        async def answered() -> list[dict[str, Any]] | None:
            lines = listening.lines()
            return lines if len(lines) == 2 else None

        lines = await eventually(answered)
        assert {line["status"] for line in lines} == {201}


async def test_an_app_listener_gets_the_apps_messages(
    hookd: HookdServer, local: Local, listeners: list[Listening], tmp_path: Path
) -> None:
    async with _api(hookd) as api:
        app = (await api.post("/api/v1/app", json={"name": "listen-acme"})).json()
        listening = _listen(
            hookd,
            listeners,
            tmp_path,
            "--forward-to",
            local.url,
            "--app",
            app["id"],
            "--events",
            "invoice.*",
        )
        await _connected(api, f"app-{app['id']}", listening)
        other = await api.post(
            f"/api/v1/app/{app['id']}/msg", json={"eventType": "customer.created", "payload": {}}
        )
        sent = await api.post(
            f"/api/v1/app/{app['id']}/msg",
            json={"eventType": "invoice.paid", "payload": {"amount": 42}},
        )
        assert sent.status_code == 201, sent.text
        await local.wait_for(1)
        method, path_qs, headers, body = local.requests[0]
        assert (method, path_qs) == ("POST", "/webhooks")
        assert json.loads(body) == {"amount": 42}
        # Signed as any delivery: the endpoint's secret verifies it.
        (endpoint,) = (await api.get(f"/api/v1/app/{app['id']}/endpoint")).json()["data"]
        secret = (
            await api.get(f"/api/v1/app/{app['id']}/endpoint/{endpoint['id']}/secret")
        ).json()["key"]
        standardwebhooks.Webhook(secret).verify(body, dict(headers))
        # The filtered-out message was never meant for the listener.
        for_other = await api.get(f"/api/v1/app/{app['id']}/msg/{other.json()['id']}/endpoint")
        assert for_other.json()["data"] == []

        async def recorded() -> Any:
            attempts = await api.get(f"/api/v1/app/{app['id']}/attempt/msg/{sent.json()['id']}")
            return attempts.json()["data"]

        (attempt,) = await eventually(recorded)
        assert attempt["responseStatusCode"] == 201


async def test_a_listener_is_refused_without_the_apps_scope(
    hookd: HookdServer, local: Local, listeners: list[Listening], tmp_path: Path
) -> None:
    async with _api(hookd) as api:
        relay = (await api.put("/api/v1/relay/t-private", json={})).json()
        mine = (await api.post("/api/v1/app", json={"name": "listen-mine"})).json()
        key = await api.post(
            "/api/v1/api-key", json={"name": "mine", "scope": "application", "appId": mine["id"]}
        )
        assert key.status_code == 201, key.text
        token = key.json()["token"]
    import websockets
    from websockets.exceptions import ConnectionClosed

    base = hookd.url.replace("http://", "ws://")

    async def refusal(path: str, bearer: str | None) -> int:
        headers = {} if bearer is None else {"Authorization": f"Bearer {bearer}"}
        async with websockets.connect(base + path, additional_headers=headers) as socket:
            with pytest.raises(ConnectionClosed) as closed:
                await socket.recv()
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code

    assert await refusal(relay["listenPath"], token) == 4403  # another application's key
    assert await refusal(relay["listenPath"], None) == 4401
    assert await refusal(relay["listenPath"], "hookd_key_not_a_key") == 4401
    assert await refusal("/api/v1/relay/src_missing/listen", TOKEN) == 4404
    # The same key listens on its own application's relay.
    async with _api(hookd) as api:
        own = await api.post(f"/api/v1/app/{mine['id']}/relay", json={})
        assert own.status_code == 200, own.text
    headers = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(
        base + own.json()["relay"]["listenPath"], additional_headers=headers
    ) as socket:
        assert json.loads(await socket.recv())["type"] == "ready"


async def test_a_late_local_answer_is_a_504_and_a_missing_one_a_502(
    new_server: NewServer, local: Local, listeners: list[Listening], tmp_path: Path
) -> None:
    server = new_server({"HOOKD_RELAY_ANSWER_TIMEOUT": "1"})
    server.start()
    local.hold = asyncio.Event()
    listening = _listen(server, listeners, tmp_path, "--forward-to", local.url, "--relay", "t-late")
    dead = f"http://127.0.0.1:{free_port()}/webhooks"  # nothing listens there
    gone = _listen(server, listeners, tmp_path, "--forward-to", dead, "--relay", "t-gone")
    async with _api(server) as api, httpx.AsyncClient(timeout=30) as provider:
        late = await _connected(api, "t-late", listening)
        answer = await provider.post(late["url"], content=b"late")
        assert answer.status_code == 504
        assert answer.json()["code"] == "listener_timeout"
        # Kept all the same: once the local server answers, the attempt says so.
        local.hold.set()
        endpoints = (await api.get(f"/ingest/api/v1/source/{late['id']}/endpoint")).json()
        (endpoint,) = endpoints["data"]

        async def answered() -> bool:
            path = f"/api/v1/app/{late['id']}/attempt/endpoint/{endpoint['id']}"
            attempts = (await api.get(path)).json()["data"]
            return any(a["responseStatusCode"] == 201 for a in attempts)

        assert await eventually(answered, timeout=30)

        relay = await _connected(api, "t-gone", gone)
        failed = await provider.post(relay["url"], content=b"nobody home")
        assert failed.status_code == 502
        assert failed.json()["code"] == "listener_failed"


async def test_a_source_listener_gets_what_the_source_accepted(
    hookd: HookdServer, local: Local, listeners: list[Listening], tmp_path: Path
) -> None:
    async with _api(hookd) as api, httpx.AsyncClient(timeout=30) as provider:
        made = await api.post(
            "/ingest/api/v1/source",
            json={
                "name": "stripe for listen",
                "uid": "stripe-listen",
                "type": "stripe",
                "config": {"secret": STRIPE_SECRET},
            },
        )
        assert made.status_code == 201, made.text
        source = made.json()
        listening = _listen(
            hookd,
            listeners,
            tmp_path,
            "--forward-to",
            local.url,
            "--relay",
            "t-source",
            "--source",
            "stripe-listen",
        )
        await _connected(api, "t-source", listening)
        body, signature = _stripe_event()
        answer = await provider.post(
            source["ingestUrl"],
            content=body,
            headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        )
        assert answer.status_code == 200, answer.text  # the source answers the provider
        await local.wait_for(1)
        method, path_qs, headers, received = local.requests[0]
        assert (method, path_qs, received) == ("POST", "/webhooks", body)
        sent = {name.lower(): value for name, value in headers}
        event = stripe.Webhook.construct_event(received, sent["stripe-signature"], STRIPE_SECRET)
        assert event["id"] == "evt_listen"
