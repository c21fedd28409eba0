"""X-Forwarded-For names the client only when the connection comes from a trusted proxy
(HOOKD_TRUSTED_PROXIES); by default no proxy is trusted, 127.0.0.1 included, so a local process
cannot get past a source's allowedIps or forge the recorded remote address."""

from __future__ import annotations

import uuid

import httpx
import orjson
from svix.api import IngestSourceIn

from tests.conftest import svix_for
from tests.integration.inbound.signers import standard_headers
from tests.support import TOKEN, HookdServer, NewServer

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ALLOWED = "192.0.2.7"  # in the source's allowedIps; 127.0.0.1 is not


async def _source(server: HookdServer) -> tuple[str, str]:
    """A source that only takes requests from 192.0.2.0/24: (its id, its ingest URL)."""
    config = {"provider": "standard-webhooks", "secret": SECRET, "allowedIps": ["192.0.2.0/24"]}
    source = await svix_for(server).ingest.source.create(
        IngestSourceIn.model_validate(
            {
                "name": "proxied",
                "uid": f"s-{uuid.uuid4().hex[:12]}",
                "type": "generic-webhook",
                "config": config,
            }
        )
    )
    assert source.ingest_url is not None
    return source.id, source.ingest_url


async def _send(url: str, msg_id: str, headers: dict[str, str]) -> httpx.Response:
    body = orjson.dumps({"type": "user.created"})
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(
            url, content=body, headers={**standard_headers(body, SECRET, msg_id), **headers}
        )


async def _recorded(server: HookdServer, source_id: str) -> set[str | None]:
    """The remote addresses recorded for the source's requests."""
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    ) as api:
        response = await api.get(f"/ingest/api/v1/source/{source_id}/request")
    assert response.status_code == 200, response.text
    return {record["remoteIp"] for record in response.json()["data"]}


async def test_no_proxy_is_trusted_by_default(new_server: NewServer) -> None:
    server = new_server()
    server.start()
    source_id, url = await _source(server)
    forged = await _send(url, "m-forged", {"X-Forwarded-For": ALLOWED})
    assert (forged.status_code, forged.json()["code"]) == (401, "ip_not_allowed")
    also = await _send(url, "m-forwarded", {"Forwarded": f"for={ALLOWED}"})
    assert (also.status_code, also.json()["code"]) == (401, "ip_not_allowed")
    assert await _recorded(server, source_id) == {"127.0.0.1"}


async def test_a_trusted_proxy_names_the_client(new_server: NewServer) -> None:
    server = new_server({"HOOKD_TRUSTED_PROXIES": "127.0.0.1/32"})
    server.start()
    source_id, url = await _source(server)
    accepted = await _send(url, "m-proxied", {"X-Forwarded-For": ALLOWED})
    assert accepted.status_code == 200, accepted.text
    # A client's own X-Forwarded-For is kept by the proxy, which appends the address it saw:
    # the last address that is not a trusted proxy is the client.
    spoofed = await _send(url, "m-spoofed", {"X-Forwarded-For": f"{ALLOWED}, 198.51.100.9"})
    assert (spoofed.status_code, spoofed.json()["code"]) == (401, "ip_not_allowed")
    # Without the header the proxy itself is the client.
    direct = await _send(url, "m-direct", {})
    assert (direct.status_code, direct.json()["code"]) == (401, "ip_not_allowed")
    assert await _recorded(server, source_id) == {ALLOWED, "198.51.100.9", "127.0.0.1"}
