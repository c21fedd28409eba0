"""The Ingest API through the official Svix SDK, token rotation, inspection and replay."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from svix.api import (
    IngestEndpointHeadersIn,
    IngestEndpointIn,
    IngestEndpointSecretIn,
    IngestEndpointUpsertIn,
    IngestSourceIn,
    StripeConfig,
    SvixAsync,
)
from svix.exceptions import HttpError, HTTPValidationError

from tests.integration.inbound.conftest import MakeSource
from tests.integration.inbound.signers import github_headers
from tests.support import Receiver, eventually

GITHUB_SECRET = "replay-secret"


async def test_sources_and_endpoints_through_the_sdk(
    svix: SvixAsync, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    created = await svix.ingest.source.create(
        IngestSourceIn(
            name="billing", uid="sdk-billing", type="stripe", config=StripeConfig(secret="whsec_a")
        )
    )
    assert created.ingest_url and created.ingest_url.endswith(
        "/in/" + created.ingest_url.rsplit("/", 1)[1]
    )
    assert (await svix.ingest.source.get("sdk-billing")).id == created.id
    listed = await svix.ingest.source.list()
    assert created.id in [s.id for s in listed.data]
    apps = (await api.get("/api/v1/app", params={"limit": 250})).json()["data"]
    assert created.id not in [a["id"] for a in apps]  # a source's application is not an app

    renamed = await svix.ingest.source.upsert(
        created.id,
        IngestSourceIn(
            name="billing v2",
            uid="sdk-billing",
            type="stripe",
            config=StripeConfig(secret="whsec_b"),
        ),
    )
    assert (renamed.name, renamed.ingest_url) == ("billing v2", created.ingest_url)

    endpoint = await svix.ingest.endpoint.create(
        created.id,
        IngestEndpointIn(url=receiver.url, uid="ep-1", throttle_rate=5, metadata={"team": "pay"}),
    )
    assert (endpoint.throttle_rate, endpoint.metadata) == (5, {"team": "pay"})
    assert (await svix.ingest.endpoint.get(created.id, "ep-1")).id == endpoint.id
    assert len((await svix.ingest.endpoint.list(created.id)).data) == 1
    updated = await svix.ingest.endpoint.upsert(
        created.id,
        endpoint.id,
        IngestEndpointUpsertIn(url=receiver.url, disabled=True, description="off"),
    )
    assert (updated.disabled, updated.description) == (True, "off")
    old_key = (await svix.ingest.endpoint.get_secret(created.id, endpoint.id)).key
    await svix.ingest.endpoint.rotate_secret(created.id, endpoint.id, IngestEndpointSecretIn())
    assert (await svix.ingest.endpoint.get_secret(created.id, endpoint.id)).key != old_key
    await svix.ingest.endpoint.set_headers(
        created.id,
        endpoint.id,
        IngestEndpointHeadersIn(headers={"X-Team": "pay", "Authorization": "k"}),
    )
    headers = await svix.ingest.endpoint.get_headers(created.id, endpoint.id)
    assert (headers.headers, headers.sensitive) == ({"X-Team": "pay"}, ["Authorization"])
    await svix.ingest.endpoint.delete(created.id, endpoint.id)
    assert (await svix.ingest.endpoint.list(created.id)).data == []

    await svix.ingest.source.delete(created.id)
    with pytest.raises(HttpError) as gone:
        await svix.ingest.source.get(created.id)
    assert gone.value.status_code == 404


async def test_invalid_config_is_a_422_naming_the_field(
    api: httpx.AsyncClient, svix: SvixAsync
) -> None:
    response = await api.post(
        "/ingest/api/v1/source",
        json={
            "name": "x",
            "type": "generic-webhook",
            "config": {"provider": "stripe", "secret": "s", "toleranceSeconds": 0},
        },
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "config", "toleranceSeconds"]
    unsupported = await api.post(
        "/ingest/api/v1/source", json={"name": "x", "type": "cron", "config": {}}
    )
    assert unsupported.json()["detail"][0]["loc"] == ["body", "type"]
    with pytest.raises(HTTPValidationError):
        await svix.ingest.source.create(
            IngestSourceIn(name="x", type="github", config={"secrett": "s"})
        )


async def test_token_rotation_retires_the_old_url(svix: SvixAsync, make_source: MakeSource) -> None:
    source_id, old_url, _ = await make_source("github", {"secret": GITHUB_SECRET}, forward=False)
    body = orjson.dumps({"zen": "z"})
    headers = github_headers(body, GITHUB_SECRET, "push")
    # Used first, so the server has looked the old token up (and keeps lookups for a moment).
    assert httpx.post(old_url, content=body, headers=headers).status_code == 200
    rotated = await svix.ingest.source.rotate_token(source_id)
    assert rotated.ingest_url != old_url
    headers = github_headers(body, GITHUB_SECRET, "push")
    assert httpx.post(old_url, content=body, headers=headers).status_code == 404
    assert httpx.post(rotated.ingest_url, content=body, headers=headers).status_code == 200


async def test_inspect_and_replay(
    make_source: MakeSource, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    source_id, url, _ = await make_source("github", {"secret": GITHUB_SECRET})
    base = f"/ingest/api/v1/source/{source_id}/request"
    started = datetime.now(UTC) - timedelta(seconds=1)
    body = b'{"ref": "refs/heads/main", "note": "caf\xc3\xa9"}'
    assert (
        httpx.post(
            url, content=body, headers=github_headers(body, GITHUB_SECRET, "push")
        ).status_code
        == 200
    )
    forged = httpx.post(
        url, content=b'{"a":1}', headers=github_headers(b'{"a":1}', "wrong", "push")
    )
    assert forged.status_code == 401
    await receiver.wait_for(1)

    rejected, accepted = (await api.get(base)).json()["data"]

    async def forwarded() -> dict[str, Any]:
        # The receiver sees the request before the worker records its outcome.
        detail: dict[str, Any] = (await api.get(f"{base}/{accepted['id']}")).json()
        assert [d["statusText"] for d in detail["forwardedTo"]] == ["success"]
        return detail

    detail = await eventually(forwarded)
    assert base64.b64decode(detail["body"]) == body
    assert detail["bodyText"] == body.decode()
    assert ["x-github-event", "push"] in detail["headers"]

    async def forwarded_once() -> dict[str, str] | None:
        # The receiver has the request; the worker records the outcome a moment later.
        (dest,) = (await api.get(f"{base}/{accepted['id']}")).json()["forwardedTo"]
        return dest if dest["statusText"] == "success" else None

    destination = await eventually(forwarded_once)
    assert destination["url"] == receiver.url

    replay = await api.post(f"{base}/{accepted['id']}/replay")
    assert (replay.status_code, replay.json()) == (202, {"deliveriesQueued": 1})
    await receiver.wait_for(2)
    assert receiver.requests[1].body == body

    refused = await api.post(f"{base}/{rejected['id']}/replay")
    assert (refused.status_code, refused.json()["code"]) == (409, "not_verified")
    forced = await api.post(f"{base}/{rejected['id']}/replay", params={"force": "true"})
    assert forced.json() == {"deliveriesQueued": 1}
    await receiver.wait_for(3)
    assert receiver.requests[2].body == b'{"a":1}'

    bulk = await api.post(
        f"{base}/replay", json={"since": started.isoformat(), "status": "success"}
    )
    assert bulk.status_code == 200, bulk.text
    task = bulk.json()
    assert (task["status"], task["data"]["requestsReplayed"]) == ("finished", 1)
    await receiver.wait_for(4)
    needs_force = await api.post(
        f"{base}/replay", json={"since": started.isoformat(), "outcomes": ["rejected"]}
    )
    assert needs_force.status_code == 422
    only_rejected = await api.get(base, params={"outcome": "rejected"})
    assert [r["id"] for r in only_rejected.json()["data"]] == [rejected["id"]]
    missing = await api.get(f"{base}/req_nothing")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
