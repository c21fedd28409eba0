"""Secrets in API answers: broker URL passwords and source config secrets are masked everywhere
but the explicit secret routes; an update that sends the mask back keeps the stored secret."""

from __future__ import annotations

import uuid

import httpx
from svix.api import EndpointIn, EndpointPatch, MessageIn, SvixAsync
from svix.models import EndpointUpsertIn

from tests.support import eventually

PASSWORD = "guest"  # RabbitMQ's default user on the test machine
BROKER = f"amqp://guest:{PASSWORD}@127.0.0.1:5672/?queue=hookd-masking-{uuid.uuid4().hex[:8]}"
MASKED = BROKER.replace(f":{PASSWORD}@", ":****@")
LONG_SECRET = "github-webhook-secret-0123456789-wxyz"


async def test_broker_url_password_is_masked_but_on_the_secret_route(
    svix: SvixAsync, api: httpx.AsyncClient, app_id: str
) -> None:
    created = await svix.endpoint.create(app_id, EndpointIn(url=BROKER))
    assert created.url == MASKED
    assert (await svix.endpoint.get(app_id, created.id)).url == MASKED
    listed = await api.get(f"/api/v1/app/{app_id}/endpoint")
    assert f":{PASSWORD}@" not in listed.text and MASKED in {
        e["url"] for e in listed.json()["data"]
    }

    base = f"/api/v1/app/{app_id}/endpoint/{created.id}"
    secret = (await api.get(f"{base}/secret")).json()
    assert secret["url"] == BROKER and secret["key"].startswith("whsec_")

    # The attempts record the URL they used: masked too.
    msg = await svix.message.create(app_id, MessageIn(event_type="a.b", payload={}))

    async def attempted() -> httpx.Response | None:
        page = await api.get(f"/api/v1/app/{app_id}/attempt/msg/{msg.id}")
        return page if page.json()["data"] else None

    attempts = await eventually(attempted)
    assert f":{PASSWORD}@" not in attempts.text
    assert attempts.json()["data"][0]["url"] == MASKED
    destinations = await api.get(f"/api/v1/app/{app_id}/msg/{msg.id}/endpoint")
    assert f":{PASSWORD}@" not in destinations.text

    # Sending the masked URL back (PATCH and PUT) keeps the password.
    patched = await svix.endpoint.patch(
        app_id, created.id, EndpointPatch(url=MASKED, description="renamed")
    )
    assert patched.url == MASKED and patched.description == "renamed"
    await svix.endpoint.upsert(app_id, created.id, EndpointUpsertIn(url=MASKED))
    assert (await api.get(f"{base}/secret")).json()["url"] == BROKER

    # A masked password that is not the stored one's mask is refused, never stored.
    other_host = MASKED.replace("127.0.0.1", "localhost")
    refused = await api.patch(base, json={"url": other_host})
    assert refused.status_code == 422
    error = refused.json()
    assert error["code"] == "validation" and error["detail"][0]["loc"] == ["body", "url"]
    assert "masked" in error["detail"][0]["msg"]
    new_app = await api.post(f"/api/v1/app/{app_id}/endpoint", json={"url": MASKED})
    assert new_app.status_code == 422

    # A real new password replaces the old one.
    changed = BROKER.replace(f":{PASSWORD}@", ":another-password@")
    await svix.endpoint.patch(app_id, created.id, EndpointPatch(url=changed))
    assert (await api.get(f"{base}/secret")).json()["url"] == changed


async def test_http_endpoint_secret_route_has_no_url(
    svix: SvixAsync, api: httpx.AsyncClient, app_id: str
) -> None:
    ep = await svix.endpoint.create(app_id, EndpointIn(url="https://example.com/hook"))
    assert ep.url == "https://example.com/hook"
    secret = (await api.get(f"/api/v1/app/{app_id}/endpoint/{ep.id}/secret")).json()
    assert secret["url"] is None
    assert (await svix.endpoint.get_secret(app_id, ep.id)).key == secret["key"]


async def test_source_config_secret_is_masked_but_on_the_secret_route(
    api: httpx.AsyncClient,
) -> None:
    body = {"name": "gh", "type": "github", "config": {"secret": LONG_SECRET}}
    created = (await api.post("/ingest/api/v1/source", json=body)).json()
    masked = {"secret": "****wxyz"}
    assert created["config"] == masked
    base = f"/ingest/api/v1/source/{created['id']}"
    assert (await api.get(base)).json()["config"] == masked
    listed = await api.get("/ingest/api/v1/source", params={"limit": 250})
    assert LONG_SECRET not in listed.text
    assert (await api.get(f"{base}/secret")).json()["secret"] == LONG_SECRET

    # PUT with the masked value as GET showed it keeps the secret.
    kept = await api.put(base, json={**body, "config": masked, "name": "renamed"})
    assert kept.status_code == 200 and kept.json()["name"] == "renamed"
    assert (await api.get(f"{base}/secret")).json()["secret"] == LONG_SECRET

    refused = await api.put(base, json={**body, "config": {"secret": "****abcd"}})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "config", "secret"]
    fresh = await api.post("/ingest/api/v1/source", json={**body, "config": {"secret": "****wxyz"}})
    assert fresh.status_code == 422

    await api.put(base, json={**body, "config": {"secret": "a-new-secret"}})
    secret = (await api.get(f"{base}/secret")).json()
    assert secret == {"secret": "a-new-secret"}
    assert (await api.get(base)).json()["config"] == {"secret": "****"}


async def test_missing_source_secret_is_404(api: httpx.AsyncClient) -> None:
    response = await api.get("/ingest/api/v1/source/src_missing/secret")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
