"""Outbound endpoints' filters and transformations through a real hookd and a real receiver:
filtered-out endpoints get no delivery; a transformation can cancel, and its failures are
failed attempts that say why."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from svix.api import EndpointIn, EndpointTransformationOut, EndpointTransformationPatch, SvixAsync

from tests.support import Receiver, eventually

pytest.importorskip("py_mini_racer", reason="mini-racer (the transformations extra) is missing")


async def add_endpoint(api: httpx.AsyncClient, app_id: str, **fields: Any) -> dict[str, Any]:
    response = await api.post(f"/api/v1/app/{app_id}/endpoint", json=fields)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def send(api: httpx.AsyncClient, app_id: str, event_type: str, payload: Any) -> str:
    response = await api.post(
        f"/api/v1/app/{app_id}/msg", json={"eventType": event_type, "payload": payload}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def destinations(api: httpx.AsyncClient, app_id: str, msg_id: str) -> set[str]:
    listing = await api.get(f"/api/v1/app/{app_id}/msg/{msg_id}/endpoint")
    return {item["id"] for item in listing.json()["data"]}


async def first_attempt(api: httpx.AsyncClient, app_id: str, msg_id: str) -> dict[str, Any]:
    async def attempts() -> list[dict[str, Any]]:
        listing = await api.get(f"/api/v1/app/{app_id}/attempt/msg/{msg_id}")
        return list(listing.json()["data"])

    found = await eventually(attempts)
    return dict(found[-1])  # newest first


async def test_outbound_filter_sees_payload_and_event_type(
    api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    large = await add_endpoint(
        api,
        app_id,
        url=receiver.url_for("/large"),
        filter={"event_type": "order.created", "body": {"total": {"$gt": 100}}},
    )
    everything = await add_endpoint(api, app_id, url=receiver.url_for("/all"))
    small_id = await send(api, app_id, "order.created", {"total": 5})
    large_id = await send(api, app_id, "order.created", {"total": 500})
    other_id = await send(api, app_id, "order.paid", {"total": 500})

    assert await destinations(api, app_id, small_id) == {everything["id"]}
    assert await destinations(api, app_id, large_id) == {large["id"], everything["id"]}
    assert await destinations(api, app_id, other_id) == {everything["id"]}
    (delivered,) = await receiver.wait_for(1, path="/large")
    assert orjson.loads(delivered.body) == {"total": 500}


async def test_filter_and_transformation_round_trip_and_clear(
    api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    code = "function handler(request) { return request; }"
    endpoint = await add_endpoint(
        api, app_id, url=receiver.url, filter={"body": {"a": 1}}, transformation={"code": code}
    )
    assert endpoint["filter"] == {"body": {"a": 1}}
    assert endpoint["transformation"] == {"code": code, "enabled": True}
    path = f"/api/v1/app/{app_id}/endpoint/{endpoint['id']}"
    patched = (await api.patch(path, json={"filter": None, "transformation": None})).json()
    assert (patched["filter"], patched["transformation"]) == (None, None)
    assert (await api.get(path)).json()["filter"] is None


async def test_transformation_cancels_a_delivery_which_is_recorded_and_not_retried(
    api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    code = "function handler(request) { return request.body.test ? null : request; }"
    await add_endpoint(api, app_id, url=receiver.url, transformation={"code": code})
    cancelled_id = await send(api, app_id, "order.created", {"test": True})
    sent_id = await send(api, app_id, "order.created", {"test": False})

    attempt = await first_attempt(api, app_id, cancelled_id)
    assert attempt["statusText"] == "canceled"
    assert attempt["response"] == "cancelled by the transformation: handler returned null"
    (delivered,) = await receiver.wait_for(1)
    assert orjson.loads(delivered.body) == {"test": False}
    assert (await first_attempt(api, app_id, sent_id))["statusText"] == "success"
    listing = await api.get(f"/api/v1/app/{app_id}/msg/{cancelled_id}/endpoint")
    (status,) = listing.json()["data"]
    assert (status["statusText"], status["nextAttempt"]) == ("canceled", None)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (
            "function handler(request) {\n  throw new Error('no ' + request.body.id);\n}",
            "transformation failed: Error: no 7 at line 2",
        ),
        (
            "function handler(request) { while (true) {} }",
            "transformation failed: timed out after 1000 ms",
        ),
        (
            "function handler(request) { request.method = 'TRACE'; return request; }",
            "transformation failed: method must be one of GET, POST, PUT, PATCH, DELETE, "
            "got 'TRACE'",
        ),
    ],
    ids=["throws", "infinite-loop", "bad-output"],
)
async def test_failing_transformation_is_a_failed_attempt_with_the_reason(
    api: httpx.AsyncClient, app_id: str, receiver: Receiver, code: str, reason: str
) -> None:
    await add_endpoint(api, app_id, url=receiver.url, transformation={"code": code})
    msg_id = await send(api, app_id, "order.created", {"id": 7})
    attempt = await first_attempt(api, app_id, msg_id)
    assert (attempt["statusText"], attempt["response"]) == ("fail", reason)
    assert attempt["responseStatusCode"] == 0
    assert receiver.requests == []


async def test_transformation_can_change_the_method_and_query(
    api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    code = """function handler(request) {
      request.method = "put";
      request.query = {id: String(request.body.id)};
      return request;
    }"""
    await add_endpoint(api, app_id, url=receiver.url, transformation={"code": code})
    msg_id = await send(api, app_id, "order.created", {"id": 9})
    (delivered,) = await receiver.wait_for(1)
    assert (delivered.method, delivered.path) == ("PUT", "/hook")
    attempt = await first_attempt(api, app_id, msg_id)
    assert attempt["url"] == f"{receiver.url}?id=9"


@pytest.mark.parametrize(
    ("fields", "loc", "message"),
    [
        (
            {"filter": {"body": {"$like": "x"}}},
            ["body", "filter", "body", "$like"],
            "body.$like: unknown operator $like",
        ),
        (
            {"filter": {"body": {"tags": [{"$regex": "(?=a)"}]}}},
            ["body", "filter", "body", "tags", 0, "$regex"],
            "invalid regular expression",
        ),
        (
            {"transformation": {"code": "function handler(request) {\n  return ;;}}"}},
            ["body", "transformation", "code"],
            "SyntaxError: Unexpected token '}' at line 2",
        ),
        (
            {"transformation": {"code": "const x = 1;"}},
            ["body", "transformation", "code"],
            "the code must define function handler(request)",
        ),
        (
            {"transformation": {"code": "while (true) {}\nfunction handler(r) { return r; }"}},
            ["body", "transformation", "code"],
            "timed out after 1000 ms",
        ),
    ],
    ids=["unknown-operator", "regex-lookahead", "syntax-error", "no-handler", "top-level-loop"],
)
async def test_bad_filter_or_transformation_is_a_422_naming_the_spot(
    api: httpx.AsyncClient,
    app_id: str,
    receiver: Receiver,
    fields: dict[str, Any],
    loc: list[Any],
    message: str,
) -> None:
    created = await api.post(f"/api/v1/app/{app_id}/endpoint", json={"url": receiver.url, **fields})
    endpoint = await add_endpoint(api, app_id, url=receiver.url)
    patched = await api.patch(f"/api/v1/app/{app_id}/endpoint/{endpoint['id']}", json=fields)
    for response in (created, patched):
        assert response.status_code == 422, response.text
        body = response.json()
        assert body["code"] == "validation"
        (problem,) = body["detail"]
        assert problem["loc"] == loc
        assert message in problem["msg"]


async def test_filter_that_is_not_an_object_is_a_422(
    api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    response = await api.post(
        f"/api/v1/app/{app_id}/endpoint", json={"url": receiver.url, "filter": ["x"]}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "filter"]


async def test_transformation_sub_resource_through_the_svix_sdk(
    svix: SvixAsync, app_id: str, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    endpoint = await svix.endpoint.create(app_id, EndpointIn(url=receiver.url))
    assert await svix.endpoint.transformation.get(app_id, endpoint.id) == EndpointTransformationOut(
        code=None, enabled=False
    )
    code = "function handler(request) { request.headers['x-t'] = '1'; return request; }"
    await svix.endpoint.transformation.patch(
        app_id, endpoint.id, EndpointTransformationPatch(code=code)
    )
    got = await svix.endpoint.transformation.get(app_id, endpoint.id)
    assert (got.code, got.enabled) == (code, True)
    await svix.endpoint.transformation.patch(
        app_id, endpoint.id, EndpointTransformationPatch(enabled=False)
    )
    shown = (await api.get(f"/api/v1/app/{app_id}/endpoint/{endpoint.id}")).json()
    assert shown["transformation"] == {"code": code, "enabled": False}
    bad = await api.patch(
        f"/api/v1/app/{app_id}/endpoint/{endpoint.id}/transformation", json={"code": "nope("}
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "code"]
    await svix.endpoint.transformation.patch(
        app_id, endpoint.id, EndpointTransformationPatch(code=None)
    )
    got = await svix.endpoint.transformation.get(app_id, endpoint.id)
    assert (got.code, got.enabled) == (None, False)
