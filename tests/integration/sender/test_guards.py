"""The HTTP sender's guards: SSRF, malformed and oversized responses, header injection, TLS."""

from __future__ import annotations

import asyncio
import random
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from hookd.engine.http.sender import HttpSender
from tests.integration.sender.peers import (
    ALLOW,
    CHUNKED,
    OK,
    UA,
    RawRequest,
    StartApp,
    StartRaw,
    post,
)
from tests.pki import MutualTlsServer, make_pki
from tests.support import eventually


@pytest.fixture
async def loopback(serve_app: StartApp) -> tuple[int, list[str]]:
    """One server on 127.0.0.1 and ::1 (same port); records the paths it receives."""
    paths: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        paths.append(request.path)
        return web.Response(text="ok")

    return await serve_app(handle, hosts=("127.0.0.1", "::1")), paths


# 127.1 and 2130706433 are 127.0.0.1 to inet_aton: refused as such, or rejected as invalid URLs.
@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "[::1]", "[::ffff:127.0.0.1]", "0.0.0.0", "127.1", "2130706433"],
)
async def test_loopback_is_refused_without_allow_networks(
    sender: HttpSender, loopback: tuple[int, list[str]], host: str
) -> None:
    port, paths = loopback
    http = HttpSender((), user_agent=UA)
    await http.start()
    try:
        result = await post(http, f"http://{host}:{port}/refused")
    finally:
        await http.close()
    assert result.status_code == 0 and result.error
    assert "destination refused" in result.error or host in ("127.1", "2130706433")
    # A later request, allowed, is answered: the server took what came before it.
    assert (await post(sender, f"http://127.0.0.1:{port}/later")).status_code == 200
    assert [path for path in paths if path != "/later"] == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
async def test_loopback_is_reached_with_allow_networks(
    sender: HttpSender, loopback: tuple[int, list[str]], host: str
) -> None:
    port, paths = loopback
    result = await post(sender, f"http://{host}:{port}/allowed")
    assert (result.error, result.status_code, paths) == (None, 200, ["/allowed"])


@pytest.mark.parametrize(
    "reply",
    [
        b"garbage\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n",
        CHUNKED + b"zz\r\n",
        b"",
    ],
    ids=["garbage", "bad-status", "bad-length", "bad-chunk", "empty"],
)
async def test_malformed_response(sender: HttpSender, raw: StartRaw, reply: bytes) -> None:
    async def answer(request: RawRequest) -> bytes:
        return reply if request.target == "/bad" else OK

    server = await raw(answer, "close")
    result = await post(sender, server.url("/bad"))
    assert result.status_code == 0 and result.error and not result.timed_out
    assert (await post(sender, server.url("/good"))).status_code == 200


def mangled_responses(count: int) -> list[bytes]:
    """Valid responses cut short, with bytes flipped, dropped or repeated, and random bytes."""
    rng = random.Random(20261203)
    valid = [
        OK,
        CHUNKED + b"2\r\nok\r\n0\r\n\r\n",
        b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + OK,
        b"HTTP/1.0 500 Oops\r\nRetry-After: 5\r\n\r\nbody",
    ]
    replies = []
    for n in range(count):
        reply = bytearray(rng.choice(valid))
        match n % 4:
            case 0:
                del reply[rng.randrange(len(reply)) :]
            case 1:
                for _ in range(rng.randint(1, 4)):
                    reply[rng.randrange(len(reply))] = rng.randrange(256)
            case 2:
                at = rng.randrange(len(reply))
                reply[at:at] = reply[: rng.randrange(len(reply))]
            case _:
                reply = bytearray(rng.randbytes(rng.randint(1, 200)))
        replies.append(bytes(reply))
    return replies


async def test_any_reply_gives_a_result_and_the_sender_goes_on(
    sender: HttpSender, raw: StartRaw
) -> None:
    # Whatever a server writes before closing, the send ends with a result (never an exception,
    # never the deadline), and the next send on the same sender works.
    replies = mangled_responses(200)

    async def answer(request: RawRequest) -> bytes:
        return OK if request.target == "/good" else replies[int(request.target[1:])]

    server = await raw(answer, "close")
    for n, reply in enumerate(replies):
        result = await post(sender, server.url(f"/{n}"), timeout=10)
        assert not result.timed_out, (reply, result)
        assert (result.status_code == 0) == (result.error is not None), (reply, result)
    assert (await post(sender, server.url("/good"))).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Test": "a\r\nX-Injected: yes"},
        {"X-Test": "a\nX-Injected: yes"},
        {"X-Test\r\nX-Injected": "yes"},
        {"X-Test": "a\r\n\r\nGET /x-injected HTTP/1.1\r\nX-Injected: yes"},
    ],
    ids=["crlf-in-value", "lf-in-value", "crlf-in-name", "smuggled-request"],
)
async def test_header_injection_is_impossible(
    sender: HttpSender, raw: StartRaw, headers: dict[str, str]
) -> None:
    server = await raw(OK)
    result = await sender.send("POST", server.url(), headers, b"{}", 2)
    assert result.error or result.status_code == 200
    await sender.close()  # the connection ends: the server has read all it carried

    async def closed() -> bool:
        return server.open == 0

    await eventually(closed)
    names = [name.lower() for request in server.requests for name, _ in request.headers]
    assert "x-injected" not in names
    assert all(request.target == "/hook" for request in server.requests)


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70_000 + b"\r\n",
        b"HTTP/1.1 200 OK\r\n"
        + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 60) for i in range(16_000)),
    ],
    ids=["one-long-line", "a-megabyte-of-lines"],
)
async def test_oversized_response_headers(sender: HttpSender, raw: StartRaw, reply: bytes) -> None:
    server = await raw(reply, "hang")
    result = await post(sender, server.url(), 5)
    assert result.status_code == 0 and result.error and not result.timed_out


async def test_close_with_a_request_in_flight_finishes(raw: StartRaw) -> None:
    server = await raw(None)
    http = HttpSender(ALLOW, user_agent=UA)
    await http.start()
    in_flight = asyncio.create_task(post(http, server.url(), 30))
    await asyncio.wait_for(server.received.wait(), 5)
    await asyncio.wait_for(http.close(), 5)
    try:
        result = await asyncio.wait_for(in_flight, 5)
    except asyncio.CancelledError:
        return
    assert result.status_code == 0 and result.error


@dataclass
class PkiFiles:
    ca: str
    server: tuple[Path, Path]
    client: tuple[Path, Path]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiFiles:
    """The test CA's PEM; the server's and the client's certificate and key files."""
    directory = tmp_path_factory.mktemp("pki")
    made = make_pki(client="client")
    files = []
    for name, cert, key in (
        ("server", made.server_cert, made.server_key),
        ("client", made.client_cert, made.client_key),
    ):
        (directory / f"{name}.pem").write_text(cert)
        (directory / f"{name}.key").write_text(key)
        files.append((directory / f"{name}.pem", directory / f"{name}.key"))
    return PkiFiles(made.ca, files[0], files[1])


async def tls_server(
    serve_app: StartApp, pki: PkiFiles, *, require_client: bool
) -> tuple[int, list[Any]]:
    """An HTTPS server on 127.0.0.1 and 127.0.0.2; records SNI names and client certificates."""
    seen: list[Any] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cadata=pki.ca)
    context.verify_mode = ssl.CERT_REQUIRED if require_client else ssl.CERT_NONE
    context.load_cert_chain(*pki.server)
    context.sni_callback = lambda _sock, name, _ctx: seen.append(("sni", name))

    async def handle(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        seen.append(("client", dict(item[0] for item in peer["subject"]) if peer else None))
        return web.Response(text="secure")

    return await serve_app(handle, hosts=("127.0.0.1", "127.0.0.2"), ssl_context=context), seen


async def test_https_with_a_trusted_ca(
    sender: HttpSender, serve_app: StartApp, pki: PkiFiles
) -> None:
    port, seen = await tls_server(serve_app, pki, require_client=False)
    trusted = ssl.create_default_context(cadata=pki.ca)
    for host in ("127.0.0.1", "localhost"):
        result = await post(sender, f"https://{host}:{port}/", tls=trusted)
        assert (result.error, result.status_code, result.body) == (None, 200, b"secure")
    assert ("sni", "localhost") in seen
    # A name the certificate does not cover is refused, even though the CA is trusted.
    mismatch = await post(sender, f"https://127.0.0.2:{port}/", tls=trusted)
    assert mismatch.status_code == 0 and mismatch.error
    # Default verification does not trust the test CA (nor reuses the connection verified above).
    untrusted = await post(sender, f"https://127.0.0.1:{port}/")
    assert untrusted.status_code == 0 and "certificate" in (untrusted.error or "").lower()
    assert [entry for entry in seen if entry[0] == "client"] == [("client", None)] * 2


async def test_mutual_tls(sender: HttpSender, serve_app: StartApp, pki: PkiFiles) -> None:
    port, seen = await tls_server(serve_app, pki, require_client=True)
    with_cert = ssl.create_default_context(cadata=pki.ca)
    with_cert.load_cert_chain(*pki.client)
    result = await post(sender, f"https://127.0.0.1:{port}/", tls=with_cert)
    assert (result.error, result.status_code) == (None, 200)
    assert ("client", {"commonName": "client"}) in seen
    # Without a certificate the server refuses (a connection that presented one is not reused).
    without = await post(
        sender, f"https://127.0.0.1:{port}/", tls=ssl.create_default_context(cadata=pki.ca)
    )
    assert without.status_code == 0 and without.error


async def test_a_refused_client_certificate_names_the_tls_failure(
    sender: HttpSender, tmp_path: Path
) -> None:
    """With TLS 1.3 the client's handshake is done before the server checks its certificate:
    the server's refusal is an alert that arrives after the request was sent. The attempt
    names it instead of reporting a connection closed before a response."""
    made, stranger = make_pki(client="client"), make_pki(client="stranger")
    for name, pki in (("client", made), ("stranger", stranger)):
        (tmp_path / f"{name}.pem").write_text(pki.client_cert)
        (tmp_path / f"{name}.key").write_text(pki.client_key)
    server = MutualTlsServer(made, tmp_path).start()
    try:
        without = await post(sender, server.url, tls=ssl.create_default_context(cadata=made.ca))
        other_ca = ssl.create_default_context(cadata=made.ca)
        other_ca.load_cert_chain(tmp_path / "stranger.pem", tmp_path / "stranger.key")
        unknown = await post(sender, server.url, tls=other_ca)
        with_cert = ssl.create_default_context(cadata=made.ca)
        with_cert.load_cert_chain(tmp_path / "client.pem", tmp_path / "client.key")
        accepted = await post(sender, server.url, tls=with_cert)
    finally:
        server.stop()
    assert (server.refused, server.answered) == (2, 1)
    assert unknown.error is not None and "TLS handshake failed" in unknown.error, unknown.error
    assert "unknown ca" in unknown.error, unknown.error
    assert (accepted.error, accepted.status_code) == (None, 200)
    assert without.status_code == 0 and without.error is not None
    assert "ClosedBeforeResponse" not in without.error
    assert "TLS handshake failed" in without.error, without.error
    assert "certificate required" in without.error, without.error
