"""The SSRF guard (on by default) and the header styles."""

from __future__ import annotations

from svix.api import ApplicationIn, EndpointIn, MessageIn
from svix.models import MessageStatus
from svix.webhooks import Webhook

from tests.conftest import svix_for
from tests.support import Receiver, eventually


async def test_private_destinations_are_refused_by_default(new_server, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    server = new_server({"HOOKD_ALLOW_NETWORKS": "", "HOOKD_RETRY_SCHEDULE": ""})
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
    msg = await svix.message.create(app.id, MessageIn(event_type="a.b", payload={}))

    async def all_refused() -> list:  # type: ignore[type-arg]
        attempts = (await svix.message_attempt.list_by_msg(app.id, msg.id)).data
        return attempts if len(attempts) == len(urls) else []

    attempts = await eventually(all_refused)
    for attempt in attempts:
        assert attempt.status == MessageStatus.FAIL
        assert attempt.response_status_code == 0
        assert "destination refused" in attempt.response, attempt.response
        assert "HOOKD_ALLOW_NETWORKS" in attempt.response, attempt.response
    assert receiver.requests == []


async def test_allow_networks_exempts_a_cidr(new_server, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    server = new_server({"HOOKD_ALLOW_NETWORKS": "127.0.0.0/8"})
    server.start()
    svix = svix_for(server)
    app = await svix.application.create(ApplicationIn(name="allowed"))
    await svix.endpoint.create(app.id, EndpointIn(url=f"http://localhost:{receiver.port}/hook"))
    await svix.message.create(app.id, MessageIn(event_type="a.b", payload={}))
    await receiver.wait_for(1)


async def test_svix_header_style(new_server, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
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


async def test_request_timeout_is_a_failed_attempt(new_server, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
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
