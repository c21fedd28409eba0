"""The HTTP sender against real servers: requests, connections, response shapes, deadlines."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket

import pytest
from aiohttp import web
from multidict import CIMultiDict

from hookd.core.delivery import RESPONSE_READ_LIMIT
from hookd.engine.http.pool import HAPPY_EYEBALLS_DELAY, open_socket
from hookd.engine.http.sender import CONNECTIONS_PER_HOST, HttpSender
from tests.integration.sender.peers import (
    ALLOW,
    CHUNKED,
    OK,
    UA,
    RawRequest,
    StartApp,
    StartRaw,
    lower,
    post,
    read_request,
)
from tests.support import free_port


async def test_post_delivers_body_and_headers_and_returns_the_response(
    sender: HttpSender, serve_app: StartApp
) -> None:
    seen: list[web.Request] = []
    bodies: list[bytes] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request)
        bodies.append(await request.read())
        headers = CIMultiDict([("Retry-After", "120"), ("webhook-delivery", "abort-message")])
        headers.extend([("X-Multi", "one"), ("X-Multi", "two")])
        return web.Response(status=201, body=b"created!", headers=headers)

    port = await serve_app(handle)
    body = bytes(range(256)) * 8
    sent = {"Content-Type": "application/json", "webhook-id": "msg_1", "X-Mixed-Case": "v"}
    result = await sender.send("POST", f"http://127.0.0.1:{port}/hook", sent, body, 5)
    assert result.error is None and not result.timed_out
    assert (result.status_code, result.body) == (201, b"created!")
    assert (result.retry_after, result.delivery_control) == ("120", "abort-message")
    assert {("x-multi", "one"), ("x-multi", "two")} <= set(lower(result))
    assert 0 <= result.duration_ms < 5000
    [request] = seen
    assert request.method == "POST" and request.path == "/hook" and bodies == [body]
    assert request.headers["content-type"] == "application/json"
    assert request.headers["WEBHOOK-ID"] == "msg_1" and request.headers["x-mixed-case"] == "v"
    assert request.headers.getall("User-Agent") == [UA]
    assert request.headers.getall("Host") == [f"127.0.0.1:{port}"]
    assert request.headers["Content-Length"] == str(len(body))


@pytest.mark.parametrize("name", ["User-Agent", "user-agent", "USER-AGENT"])
async def test_user_agent_header_overrides_the_default(
    sender: HttpSender, serve_app: StartApp, name: str
) -> None:
    agents: list[list[str]] = []

    async def handle(request: web.Request) -> web.Response:
        agents.append(request.headers.getall("User-Agent"))
        return web.Response(status=204)

    port = await serve_app(handle)
    result = await sender.send("POST", f"http://127.0.0.1:{port}/", {name: "custom/2"}, b"", 5)
    assert result.status_code == 204 and agents == [["custom/2"]]


@pytest.mark.parametrize("body", [b"", b"payload"])
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
async def test_methods_and_query_strings_reach_the_server(
    sender: HttpSender, serve_app: StartApp, method: str, body: bytes
) -> None:
    seen: list[tuple[str, str, bytes]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append((request.method, request.path_qs, await request.read()))
        return web.Response(text="done")

    port = await serve_app(handle)
    result = await sender.send(method, f"http://127.0.0.1:{port}/path?a=1&b=two", {}, body, 5)
    assert (result.error, result.status_code, result.body) == (None, 200, b"done")
    assert seen == [(method, "/path?a=1&b=two", body)]


@pytest.mark.parametrize(
    ("method", "status"), [("HEAD", 200), ("POST", 204), ("GET", 304)], ids=["head", "204", "304"]
)
async def test_bodiless_responses(
    sender: HttpSender, raw: StartRaw, method: str, status: int
) -> None:
    # A HEAD or 304 answer's Content-Length describes a body that is never sent.
    length = b"" if status == 204 else b"Content-Length: 10\r\n"
    server = await raw(b"HTTP/1.1 %d Whatever\r\n%b\r\n" % (status, length))
    for _ in range(2):
        result = await sender.send(method, server.url(), {}, b"", 2)
        assert (result.error, result.status_code, result.body) == (None, status, b"")
    assert [r.method for r in server.requests] == [method] * 2 and server.accepted == 1


async def test_sequential_requests_reuse_connections(sender: HttpSender, raw: StartRaw) -> None:
    server = await raw(OK)
    for _ in range(50):
        result = await post(sender, server.url())
        assert (result.status_code, result.body) == (200, b"ok")
    assert len(server.requests) == 50 and server.accepted <= 3


async def slow_ok(_: RawRequest) -> bytes:
    await asyncio.sleep(0.05)
    return OK


async def test_concurrent_sends_respect_the_per_host_connection_cap(
    sender: HttpSender, raw: StartRaw
) -> None:
    server = await raw(slow_ok)
    results = await asyncio.gather(*(post(sender, server.url(), 30) for _ in range(300)))
    assert [r.status_code for r in results] == [200] * 300
    assert len(server.requests) == 300
    assert 1 < server.max_open <= CONNECTIONS_PER_HOST


async def test_total_limit_caps_connections_across_hosts(raw: StartRaw) -> None:
    server = await raw(slow_ok)
    http = HttpSender(ALLOW, user_agent=UA, limit=8)
    await http.start()
    try:
        urls = [f"http://{host}:{server.port}/" for host in ("127.0.0.1", "localhost")] * 30
        results = await asyncio.gather(*(post(http, url, 30) for url in urls))
    finally:
        await http.close()
    assert [r.status_code for r in results] == [200] * 60
    assert 1 < server.max_active <= 8


CLOSE = b"HTTP/1.1 200 OK\r\nConnection: close\r\n"
# Each answers "ok" with a 200; "close" servers close the connection after answering.
SHAPES = {
    "chunked": (CHUNKED + b"1\r\no\r\n1;ext=1\r\nk\r\n0\r\nX-Trailer: t\r\n\r\n", "keep"),
    "close-delimited": (CLOSE + b"\r\nok", "close"),
    "connection-close-with-length": (CLOSE + b"Content-Length: 2\r\n\r\nok", "close"),
    "http-1.0": (b"HTTP/1.0 200 OK\r\n\r\nok", "close"),
    "early-hints": (
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" + OK,
        "keep",
    ),
    "server-closes-idle-connection": (OK, "close"),
}


@pytest.mark.parametrize("shape", SHAPES)
async def test_response_shapes(sender: HttpSender, raw: StartRaw, shape: str) -> None:
    reply, after = SHAPES[shape]
    server = await raw(reply, after)
    for _ in range(2):
        result = await post(sender, server.url())
        assert (result.error, result.status_code, result.body) == (None, 200, b"ok")
        await asyncio.sleep(0.2)
    assert len(server.requests) == 2
    assert server.accepted == (2 if after == "close" else 1)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_large_body_is_cut_at_the_read_limit(
    sender: HttpSender, raw: StartRaw, chunked: bool
) -> None:
    data = bytes(i % 251 for i in range(200_000))
    if chunked:
        reply = CHUNKED + b"%x\r\n%b\r\n0\r\n\r\n" % (len(data), data)
    else:
        reply = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b" % (len(data), data)
    server = await raw(reply)
    for _ in range(2):
        result = await post(sender, server.url())
        assert result.error is None and result.status_code == 200
        assert RESPONSE_READ_LIMIT == 65536 and result.body == data[:65536]


async def test_gzip_body_is_decompressed(sender: HttpSender, serve_app: StartApp) -> None:
    text = b"compressed receiver answer " * 50

    async def handle(_: web.Request) -> web.Response:
        return web.Response(body=gzip.compress(text), headers={"Content-Encoding": "gzip"})

    result = await post(sender, f"http://127.0.0.1:{await serve_app(handle)}/")
    assert (result.error, result.status_code, result.body) == (None, 200, text)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirects_are_not_followed(
    sender: HttpSender, serve_app: StartApp, status: int
) -> None:
    paths: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        paths.append(request.path)
        return web.Response(status=status, headers={"Location": "/to"})

    result = await post(sender, f"http://127.0.0.1:{await serve_app(handle)}/from")
    assert result.error is None and result.status_code == status
    assert ("location", "/to") in lower(result) and paths == ["/from"]


@pytest.mark.parametrize(
    ("reply", "after"),
    [(None, "keep"), (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", "hang")],
    ids=["never-answers", "stalls-mid-body"],
)
async def test_timeout(sender: HttpSender, raw: StartRaw, reply: bytes | None, after: str) -> None:
    server = await raw(reply, after)
    result = await post(sender, server.url(), 0.3)
    assert result.timed_out and result.status_code == 0
    assert result.error is not None and "timed out" in result.error
    assert 250 <= result.duration_ms < 3000


async def test_connection_refused(sender: HttpSender) -> None:
    result = await post(sender, f"http://127.0.0.1:{free_port()}/")
    assert result.status_code == 0 and result.error is not None and not result.timed_out
    assert result.error.startswith("connection failed") or "connect" in result.error.lower()


@pytest.mark.parametrize(
    "url", ["http://", "not a url", "ftp://x/", "http://[::1", "http://127.0.0.1:99999/", ""]
)
async def test_invalid_url(sender: HttpSender, url: str) -> None:
    result = await post(sender, url)
    assert result.status_code == 0 and result.error


async def test_a_request_dropped_on_a_reused_connection_goes_once_more(
    sender: HttpSender,
) -> None:
    # The server reads the second request on its first connection and closes without a byte,
    # as when it closes an idle connection while a request is on its way: the sender sends that
    # request once more, on a new connection. A new connection that does the same is not retried.
    seen: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = len({*seen}) + 1
        while await read_request(reader) is not None:
            seen.append(connection)
            if (connection == 1 and seen.count(1) == 2) or connection == 3:
                break
            writer.write(OK)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    try:
        assert (await post(sender, url)).status_code == 200
        assert (await post(sender, url)).status_code == 200
        assert seen == [1, 1, 2]
        sender_b = HttpSender(ALLOW, user_agent=UA)
        await sender_b.start()
        dropped = await post(sender_b, url)
        await sender_b.close()
        assert dropped.status_code == 0 and "closed" in (dropped.error or "")
        assert seen == [1, 1, 2, 3]
    finally:
        server.close()
        await server.wait_closed()


async def test_an_address_that_swallows_connections_costs_a_quarter_second() -> None:
    # [::1]:PORT is a listener whose accept queue is full: the kernel drops new SYNs, so a
    # connection attempt there hangs. 127.0.0.1:PORT answers. The next address is tried after
    # the Happy Eyeballs delay instead of when the first attempt gives up.
    server = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    full = socket.socket(socket.AF_INET6)
    full.bind(("::1", port))
    full.listen(0)
    queued = []
    for _ in range(4):
        pending = socket.socket(socket.AF_INET6)
        pending.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            pending.connect(("::1", port))
        queued.append(pending)
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        sock = await asyncio.wait_for(open_socket(["::1", "127.0.0.1"], port), 5)
        assert sock.getpeername()[:2] == ("127.0.0.1", port)
        assert loop.time() - started >= HAPPY_EYEBALLS_DELAY
        sock.close()
    finally:
        for pending in queued:
            pending.close()
        full.close()
        server.close()
