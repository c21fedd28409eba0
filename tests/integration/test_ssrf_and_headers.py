"""The SSRF guard (on by default) and the header styles."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from svix.api import ApplicationIn, EndpointIn, MessageIn
from svix.exceptions import HTTPValidationError
from svix.models import MessageStatus
from svix.webhooks import Webhook

from tests.conftest import svix_for
from tests.support import TOKEN, NewServer, Receiver, eventually


async def test_private_destinations_are_refused_by_default(
    new_server: NewServer, receiver: Receiver
) -> None:
    # Literal private addresses are refused when an endpoint is saved (the next test), so the
    # endpoints are saved while every network is allowed; the server then restarts with the
    # default (nothing allowed) and the send-time guard must refuse each of them.
    server = new_server({"HOOKD_ALLOW_NETWORKS": "0.0.0.0/0,::/0", "HOOKD_RETRY_SCHEDULE": ""})
    server.start()
    svix = svix_for(server)
    app = await svix.application.create(ApplicationIn(name="ssrf"))
    port = receiver.port
    urls = [
        f"http://127.0.0.1:{port}/literal",
        f"http://localhost:{port}/name",
        f"http://[::ffff:127.0.0.1]:{port}/mapped",
        f"http://[::1]:{port}/v6",
        f"http://0.0.0.0:{port}/unspecified",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/internal",
    ]
    for url in urls:
        await svix.endpoint.create(app.id, EndpointIn(url=url))
    server.stop()
    server.env["HOOKD_ALLOW_NETWORKS"] = ""
    server.start()
    msg = await svix.message.create(app.id, MessageIn(event_type="a.b", payload={}))

    async def all_refused() -> list[Any]:
        attempts = (await svix.message_attempt.list_by_msg(app.id, msg.id)).data
        return attempts if len(attempts) == len(urls) else []

    attempts = await eventually(all_refused)
    for attempt in attempts:
        assert attempt.status == MessageStatus.FAIL
        assert attempt.response_status_code == 0
        assert "destination refused" in attempt.response, attempt.response
        assert "HOOKD_ALLOW_NETWORKS" in attempt.response, attempt.response
    assert receiver.requests == []


async def test_literal_private_urls_are_refused_when_saved(new_server: NewServer) -> None:
    """A URL whose host is a literal address the SSRF guard refuses is a 422 at create and
    update (it would only fail on every attempt); an allow-listed literal and a name (resolved
    at send time) are accepted."""
    server = new_server({"HOOKD_ALLOW_NETWORKS": "10.1.0.0/16"})
    server.start()
    svix = svix_for(server)
    app = await svix.application.create(ApplicationIn(name="ssrf-save"))
    refused = [
        "http://127.0.0.1:8080/literal",
        "https://[::1]/v6",
        "http://[::ffff:127.0.0.1]/mapped",
        "http://0.0.0.0/unspecified",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/internal",
        "http://192.168.1.20/lan",
        "http://[fe80::1%25eth0]/zone",
        "redis://127.0.0.1:6379/0?stream=hooks",
    ]

    def assert_refused(response: httpx.Response, url: str) -> None:
        assert response.status_code == 422, (url, response.text)
        body = response.json()
        assert body["code"] == "url_not_allowed", body
        [error] = body["detail"]
        assert error["loc"] == ["body", "url"]
        assert "HOOKD_ALLOW_NETWORKS" in error["msg"], error

    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=server.url, headers=auth, timeout=10) as client:
        base = f"/api/v1/app/{app.id}/endpoint"
        for url in refused:
            assert_refused(await client.post(base, json={"url": url}), url)
        allowed = await client.post(base, json={"url": "http://10.1.2.3/allow-listed"})
        assert allowed.status_code == 201, allowed.text
        named = await client.post(base, json={"url": "http://localhost:9/name"})
        assert named.status_code == 201, named.text
        endpoint = named.json()["id"]
        for url in refused[:2]:
            assert_refused(await client.patch(f"{base}/{endpoint}", json={"url": url}), url)
            assert_refused(await client.put(f"{base}/{endpoint}", json={"url": url}), url)
            assert_refused(await client.put(f"{base}/new-uid", json={"url": url}), url)
        assert (await client.get(f"{base}/{endpoint}")).json()["url"] == "http://localhost:9/name"
        assert (await client.get(f"{base}/new-uid")).status_code == 404
    with pytest.raises(HTTPValidationError):
        await svix.endpoint.create(app.id, EndpointIn(url="http://127.0.0.1/sdk"))


async def test_allow_networks_exempts_a_cidr(new_server: NewServer, receiver: Receiver) -> None:
    server = new_server({"HOOKD_ALLOW_NETWORKS": "127.0.0.0/8"})
    server.start()
    svix = svix_for(server)
    app = await svix.application.create(ApplicationIn(name="allowed"))
    await svix.endpoint.create(app.id, EndpointIn(url=f"http://localhost:{receiver.port}/hook"))
    await svix.message.create(app.id, MessageIn(event_type="a.b", payload={}))
    await receiver.wait_for(1)


async def test_svix_header_style(new_server: NewServer, receiver: Receiver) -> None:
    server = new_server({"HOOKD_SIGNATURE_HEADERS": "svix"})
    server.start()
    svix = svix_for(server)
    app = await svix.application.create(ApplicationIn(name="svix-style"))
    ep = await svix.endpoint.create(app.id, EndpointIn(url=receiver.url))
    secret = (await svix.endpoint.get_secret(app.id, ep.id)).key
    msg = await svix.message.create(app.id, MessageIn(event_type="a.b", payload={"x": 1}))
    [request] = await receiver.wait_for(1)
    assert request.headers["svix-id"] == msg.id and "webhook-id" not in request.headers
    Webhook(secret).verify(request.body, request.headers)


async def test_request_timeout_is_a_failed_attempt(
    new_server: NewServer, receiver: Receiver
) -> None:
    import asyncio

    from aiohttp import web

    async def hang(_: object) -> web.Response:
        await asyncio.sleep(10)
        return web.Response(status=200)

    server = new_server({"HOOKD_REQUEST_TIMEOUT": "0.5", "HOOKD_RETRY_SCHEDULE": ""})
    server.start()
    svix = svix_for(server)
    receiver.responses = [hang]
    app = await svix.application.create(ApplicationIn(name="timeout"))
    await svix.endpoint.create(app.id, EndpointIn(url=receiver.url))
    msg = await svix.message.create(app.id, MessageIn(event_type="a.b", payload={}))

    async def timed_out() -> str:
        data = (await svix.message_attempt.list_by_msg(app.id, msg.id)).data
        return data[0].response if data else ""

    assert "timed out" in await eventually(timed_out)
