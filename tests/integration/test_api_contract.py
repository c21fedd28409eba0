"""The OpenAPI document and the API's behaviour agree (issues 13 and 14)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from svix.api import EventTypeIn, MessageListOptions, SvixAsync

from tests.support import HookdServer

pytestmark = pytest.mark.asyncio


async def _document(hookd: HookdServer) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=hookd.url) as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


async def test_every_protected_operation_declares_the_bearer_scheme(hookd: HookdServer) -> None:
    document = await _document(hookd)
    schemes = document["components"]["securitySchemes"]
    assert schemes == {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": schemes["bearerAuth"]["description"],
        }
    }
    public = {
        "/api/v1/health",
        "/api/v1/health/live",
        "/api/v1/health/ready",
        "/api/v1/payload/{msg_id}",
    }
    seen = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path in public or path.startswith("/in/"):
                assert "security" not in operation, (method, path)
                assert "401" not in operation["responses"], (method, path)
                continue
            seen += 1
            assert operation.get("security") == [{"bearerAuth": []}], (method, path)
            assert "401" in operation["responses"], (method, path)
    assert seen > 60


async def test_every_operation_declares_the_shared_error_answers(hookd: HookdServer) -> None:
    document = await _document(hookd)
    schemas = document["components"]["schemas"]
    assert set(schemas["ErrorOut"]["required"]) == {"code", "detail"}
    assert "HTTPValidationError" not in schemas  # FastAPI's 422 shape is not what hookd sends
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"422", "503"} <= set(responses), (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
            if "requestBody" in operation:
                assert {"400", "409", "413"} <= set(responses), (method, path)
    upserts = ["/api/v1/app/{app_id}", "/api/v1/event-type/{name}"]
    for path in upserts:
        assert {"200", "201"} <= set(document["paths"][path]["put"]["responses"])


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("OPTIONS", "/api/v1/app", "GET, POST"),
        ("PUT", "/api/v1/app", "GET, POST"),
        ("OPTIONS", "/api/v1/app/app_x", "DELETE, GET, PATCH, PUT"),
        ("DELETE", "/api/v1/app/app_x/msg", "GET, POST"),  # the fast create route is POST too
        ("OPTIONS", "/api/v1/event-type/x", "DELETE, GET, PATCH, PUT"),
        ("GET", "/ingest/api/v1/source/src_x/request/replay", "POST"),
    ],
)
async def test_405_lists_every_method_of_the_path(
    api: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    response = await api.request(method, path)
    if method == "GET":  # /request/{request_id} takes GET: not a 405, its own 404
        assert response.status_code == 404
        response = await api.request("OPTIONS", path)
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allowed
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.parametrize("value", [0, 1, "true", "yes", None])
async def test_booleans_in_bodies_are_json_booleans(api: httpx.AsyncClient, value: Any) -> None:
    response = await api.post(
        "/api/v1/event-type", json={"name": "strict.bool", "deprecated": value}
    )
    if value is None:  # null: not set
        assert response.status_code in (200, 201, 409), response.text
        return
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "deprecated"]


@pytest.mark.parametrize("value", ["0.5", "1700000000", " 17e8 "])
async def test_times_are_date_times_not_numbers(
    api: httpx.AsyncClient, app_id: str, value: str
) -> None:
    response = await api.get(f"/api/v1/app/{app_id}/msg", params={"before": value})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", "before"]
    endpoint = await api.post(f"/api/v1/app/{app_id}/endpoint", json={"url": "http://127.0.0.1:9/"})
    recover = await api.post(
        f"/api/v1/app/{app_id}/endpoint/{endpoint.json()['id']}/recover",
        json={"since": float(value)},
    )
    assert recover.status_code == 422, recover.text


async def test_the_svix_sdk_still_sends_what_is_accepted(svix: SvixAsync, app_id: str) -> None:
    """The SDK's booleans and times (naive or aware datetimes, isoformat) pass the stricter
    checks."""
    from datetime import UTC, datetime, timedelta

    await svix.event_type.create(EventTypeIn(name="sdk.strict", description="d", archived=False))
    now = datetime.now(UTC)
    for before in (now + timedelta(minutes=1), (now + timedelta(minutes=1)).replace(tzinfo=None)):
        listed = await svix.message.list(app_id, MessageListOptions(before=before))
        assert listed.done is True


@pytest.mark.parametrize("name", ["", "a b", "é", "x:y"])
async def test_header_names_outside_the_declared_pattern_are_422(
    hookd: HookdServer, api: httpx.AsyncClient, app_id: str, name: str
) -> None:
    document = await _document(hookd)
    declared = document["components"]["schemas"]["EndpointHeadersIn"]["properties"]["headers"]
    assert declared["propertyNames"]["pattern"].startswith("^[!#$%&")
    endpoint = await api.post(f"/api/v1/app/{app_id}/endpoint", json={"url": "http://127.0.0.1:9/"})
    response = await api.put(
        f"/api/v1/app/{app_id}/endpoint/{endpoint.json()['id']}/headers",
        json={"headers": {name: "v"}},
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation"
