"""Endpoint authentication on calls and on ordinary deliveries: basic, bearer, OAuth 2.0, mTLS."""

from __future__ import annotations

import base64
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from svix.api import MessageIn, SvixAsync

from tests.integration.test_calls import call, create_endpoint
from tests.pki import MutualTlsServer, Pki, make_pki
from tests.support import Received, Receiver, eventually, free_port


async def send_message(svix: SvixAsync, app_id: str) -> None:
    await svix.message.create(app_id, MessageIn(event_type="order.paid", payload={"id": 1}))


async def test_basic_and_bearer_reach_the_receiver_on_calls_and_deliveries(
    api: httpx.AsyncClient, svix: SvixAsync, app_id: str, receiver: Receiver
) -> None:
    await create_endpoint(
        api, app_id, url=receiver.url, auth={"type": "basic", "username": "bot", "password": "pw"}
    )
    bearer = await create_endpoint(
        api,
        app_id,
        url=receiver.url_for("/bearer"),
        auth={"type": "bearer", "token": "tok-9"},
        headers={"authorization": "Bearer stale"},  # the configured auth replaces it
    )
    basic_header = "Basic " + base64.b64encode(b"bot:pw").decode()

    assert (await call(api, app_id, bearer["id"])).json()["status"] == 204
    assert receiver.requests[0].headers["Authorization"] == "Bearer tok-9"

    await send_message(svix, app_id)
    delivered = await receiver.wait_for(3)
    by_path = {r.path: r.headers["Authorization"] for r in delivered[1:]}
    assert by_path == {"/hook": basic_header, "/bearer": "Bearer tok-9"}


@dataclass
class TokenServer:
    """An OAuth 2.0 token endpoint: counts the tokens it issues; only the newest is valid."""

    port: int
    issued: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    @property
    def current(self) -> str:
        return f"token-{self.issued}"

    async def handle(self, request: web.Request) -> web.Response:
        form = await request.post()
        expected = "Basic " + base64.b64encode(b"client-1:secret-1").decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"error": "invalid_client"}, status=401)
        assert form["grant_type"] == "client_credentials" and form["scope"] == "orders"
        self.issued += 1
        return web.json_response(
            {"access_token": self.current, "token_type": "Bearer", "expires_in": 3600}
        )


@pytest.fixture
async def token_server() -> AsyncIterator[TokenServer]:
    server = TokenServer(free_port())
    app = web.Application()
    app.router.add_post("/token", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", server.port).start()
    yield server
    await runner.cleanup()


async def test_oauth2_token_is_cached_and_refreshed_once_on_401(
    api: httpx.AsyncClient,
    svix: SvixAsync,
    app_id: str,
    receiver: Receiver,
    token_server: TokenServer,
) -> None:
    revoked: set[str] = set()

    async def protected(request: Received) -> web.Response:
        seen = request.headers.get("Authorization", "")
        return web.Response(
            status=200 if seen.startswith("Bearer token-") and seen not in revoked else 401
        )

    receiver.default = protected
    oauth = {
        "type": "oauth2",
        "tokenUrl": token_server.url,
        "clientId": "client-1",
        "clientSecret": "secret-1",
        "scope": "orders",
    }
    endpoint = await create_endpoint(api, app_id, url=receiver.url, auth=oauth)
    assert endpoint["auth"]["clientSecret"] == "****"

    for _ in range(3):
        assert (await call(api, app_id, endpoint["id"])).json()["status"] == 200
    assert token_server.issued == 1  # fetched once, then cached

    revoked.add("Bearer token-1")
    assert (await call(api, app_id, endpoint["id"])).json()["status"] == 200
    assert token_server.issued == 2  # one fresh token after the 401
    assert [r.headers["Authorization"] for r in receiver.requests[-2:]] == [
        "Bearer token-1",
        "Bearer token-2",
    ]

    # Ordinary deliveries authenticate the same way (the worker keeps its own token cache).
    await send_message(svix, app_id)
    [*_, delivered] = await receiver.wait_for(len(receiver.requests) + 1)
    assert delivered.headers["Authorization"] == "Bearer token-3"
    assert token_server.issued == 3


@dataclass
class TokenRequest:
    authorization: str | None
    content_type: str
    form: dict[str, str]


@pytest.fixture
async def recording_token_server() -> AsyncIterator[tuple[str, list[TokenRequest]]]:
    """A token endpoint that records each request's shape and always issues a token."""
    seen: list[TokenRequest] = []

    async def handle(request: web.Request) -> web.Response:
        form = {key: str(value) for key, value in (await request.post()).items()}
        seen.append(TokenRequest(request.headers.get("Authorization"), request.content_type, form))
        return web.json_response({"access_token": f"tok-{len(seen)}", "token_type": "bearer"})

    port = free_port()
    app = web.Application()
    app.router.add_post("/token", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/token", seen
    await runner.cleanup()


@pytest.mark.parametrize("method", [None, "client_secret_basic", "client_secret_post"])
async def test_oauth2_client_authentication_methods(
    api: httpx.AsyncClient,
    app_id: str,
    receiver: Receiver,
    recording_token_server: tuple[str, list[TokenRequest]],
    method: str | None,
) -> None:
    token_url, seen = recording_token_server
    oauth = {
        "type": "oauth2",
        "tokenUrl": token_url,
        "clientId": "bank bot",
        "clientSecret": "s3cret:with/odd+chars",
        "scope": "orders:read balance",
        "audience": "https://api.bank.example/",
    }
    if method is not None:
        oauth["clientAuthMethod"] = method
    endpoint = await create_endpoint(api, app_id, url=receiver.url, auth=oauth)
    shown = (await api.get(f"/api/v1/app/{app_id}/endpoint/{endpoint['id']}")).json()["auth"]
    assert shown["clientAuthMethod"] == (method or "client_secret_basic")
    assert shown["clientSecret"] == "****" + "+chars"[-4:]
    assert shown["scope"] == "orders:read balance"
    assert shown["audience"] == "https://api.bank.example/"

    assert (await call(api, app_id, endpoint["id"])).json()["status"] == 204
    assert receiver.requests[-1].headers["Authorization"] == "Bearer tok-1"

    [token_request] = seen
    assert token_request.content_type == "application/x-www-form-urlencoded"
    common = {
        "grant_type": "client_credentials",
        "scope": "orders:read balance",
        "audience": "https://api.bank.example/",
    }
    if method == "client_secret_post":
        assert token_request.authorization is None
        assert token_request.form == {
            **common,
            "client_id": "bank bot",
            "client_secret": "s3cret:with/odd+chars",
        }
    else:
        credentials = base64.b64encode(b"bank%20bot:s3cret%3Awith%2Fodd%2Bchars").decode()
        assert token_request.authorization == f"Basic {credentials}"
        assert token_request.form == common


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("clientAuthMethod", "private_key_jwt"),
        ("scope", "orders  read"),
        ("scope", 'say "hi"'),
        ("audience", "line\nbreak"),
    ],
)
async def test_oauth2_settings_refused_with_422(
    api: httpx.AsyncClient, app_id: str, field: str, value: str
) -> None:
    oauth = {
        "type": "oauth2",
        "tokenUrl": "https://idp.example/token",
        "clientId": "c",
        "clientSecret": "s",
        field: value,
    }
    response = await api.post(
        f"/api/v1/app/{app_id}/endpoint", json={"url": "https://hooks.example/", "auth": oauth}
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation"
    assert field in str(response.json()["detail"])


async def test_oauth2_token_url_goes_through_the_ssrf_guard(
    api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    oauth = {
        "type": "oauth2",
        "tokenUrl": "http://169.254.169.254/token",
        "clientId": "c",
        "clientSecret": "s",
    }
    endpoint = await create_endpoint(api, app_id, url=receiver.url, auth=oauth)

    response = await call(api, app_id, endpoint["id"])

    assert response.status_code == 502
    assert response.json()["code"] == "call_failed"
    assert "destination refused" in response.json()["detail"]
    assert receiver.requests == []


@pytest.fixture
async def mtls_server(tmp_path: Path) -> AsyncIterator[tuple[Pki, str, list[str]]]:
    """An HTTPS server on 127.0.0.1 that requires a client certificate from the test CA."""
    directory = tmp_path
    pki = make_pki()
    (directory / "server.pem").write_text(pki.server_cert)
    (directory / "server.key").write_text(pki.server_key)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cadata=pki.ca)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(directory / "server.pem", directory / "server.key")
    seen: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        subject = dict(item[0] for item in peer["subject"]) if peer else {}
        seen.append(subject.get("commonName", ""))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
    yield pki, f"https://127.0.0.1:{port}/hook", seen
    await runner.cleanup()


async def test_mutual_tls_on_calls_and_deliveries(
    api: httpx.AsyncClient, svix: SvixAsync, app_id: str, mtls_server: tuple[Pki, str, list[str]]
) -> None:
    pki, url, seen = mtls_server
    tls = {"clientCert": pki.client_cert, "clientKey": pki.client_key, "caBundle": pki.ca}
    endpoint = await create_endpoint(api, app_id, url=url, tls=tls)
    assert endpoint["tls"]["clientKey"] == "****" + pki.client_key[-4:]
    assert endpoint["tls"]["clientCert"] == pki.client_cert

    result = (await call(api, app_id, endpoint["id"])).json()
    assert result["status"] == 200 and result["json"] == {"ok": True}
    assert seen == ["hookd client"]

    await send_message(svix, app_id)

    async def delivered() -> bool:
        return seen == ["hookd client", "hookd client"]

    await eventually(delivered)

    # Trusting the CA without presenting a certificate: the server refuses the handshake.
    no_cert = await create_endpoint(api, app_id, url=url, tls={"caBundle": pki.ca})
    refused = await call(api, app_id, no_cert["id"])
    assert refused.status_code == 502 and refused.json()["code"] == "call_failed"

    mismatched = await api.post(
        f"/api/v1/app/{app_id}/endpoint",
        json={"url": url, "tls": {"clientCert": pki.client_cert, "clientKey": pki.server_key}},
    )
    assert mismatched.status_code == 422
    assert mismatched.json()["detail"][0]["loc"] == ["body", "tls", "clientKey"]


async def test_a_refused_client_certificate_is_named_in_attempts_and_calls(
    api: httpx.AsyncClient, svix: SvixAsync, app_id: str, tmp_path: Path
) -> None:
    """A server that refuses the handshake for want of a client certificate says so with a TLS
    alert; the attempt and the call's answer name that failure (they said the connection closed
    before a response)."""
    pki = make_pki()
    server = MutualTlsServer(pki, tmp_path).start()
    try:
        endpoint = await create_endpoint(api, app_id, url=server.url, tls={"caBundle": pki.ca})
        refused = await call(api, app_id, endpoint["id"])
        assert refused.status_code == 502 and refused.json()["code"] == "call_failed"
        assert "TLS handshake failed" in refused.json()["detail"], refused.text
        msg = await svix.message.create(app_id, MessageIn(event_type="order.paid", payload={}))

        async def attempt() -> str:
            attempts = (await svix.message_attempt.list_by_msg(app_id, msg.id)).data
            return attempts[0].response if attempts else ""

        response = await eventually(attempt)
    finally:
        server.stop()
    assert "TLS handshake failed: tlsv13 alert certificate required" in response, response
    assert "ClosedBeforeResponse" not in response
    assert server.answered == 0
