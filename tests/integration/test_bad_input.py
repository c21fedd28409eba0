"""Every bad input gets a clear 4xx with ``code`` and ``detail`` and changes nothing stored."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.support import TOKEN, HookdServer, NewServer

pytestmark = pytest.mark.asyncio


async def snapshot(api: httpx.AsyncClient, app_id: str) -> tuple[int, int, int]:
    apps = (await api.get("/api/v1/app", params={"limit": 250})).json()["data"]
    endpoints = (await api.get(f"/api/v1/app/{app_id}/endpoint")).json()["data"]
    messages = (await api.get(f"/api/v1/app/{app_id}/msg")).json()["data"]
    return len(apps), len(endpoints), len(messages)


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"code", "detail"}, body
    assert body["detail"], body
    if code:
        assert body["code"] == code, body


@pytest.mark.parametrize("auth", [None, "Bearer wrong", "Basic dXNlcjpwYXNz", "Bearer"])
async def test_missing_or_wrong_token_is_401(hookd: HookdServer, auth: str | None) -> None:
    headers = {"Authorization": auth} if auth else {}
    async with httpx.AsyncClient(base_url=hookd.url, headers=headers) as client:
        assert_error(await client.get("/api/v1/app"), 401, "authentication_failed")
        response = await client.post(
            "/api/v1/app", json={"name": "x"}, headers={"Idempotency-Key": "k1"}
        )
        assert_error(response, 401, "authentication_failed")


async def test_unknown_resources_are_404(api: httpx.AsyncClient, app_id: str) -> None:
    for path in (
        "/api/v1/app/app_nope",
        f"/api/v1/app/{app_id}/endpoint/ep_nope",
        f"/api/v1/app/{app_id}/msg/msg_nope",
        f"/api/v1/app/{app_id}/msg/msg_nope/attempt/atmpt_nope",
        f"/api/v1/app/{app_id}/attempt/endpoint/ep_nope",
        "/api/v1/event-type/nope.nothing",
        "/api/v1/no-such-route",
    ):
        assert_error(await api.get(path), 404, "not_found")
    response = await api.post("/api/v1/app/app_nope/msg", json={"eventType": "a", "payload": {}})
    assert_error(response, 404, "not_found")


async def test_malformed_json_and_non_object_payloads_are_422(
    api: httpx.AsyncClient, app_id: str
) -> None:
    before = await snapshot(api, app_id)
    url = f"/api/v1/app/{app_id}/msg"
    for body in (b"{not json", b"", b"[]", b'{"eventType": "a.b"}'):
        response = await api.post(url, content=body, headers={"content-type": "application/json"})
        assert_error(response, 422, "validation")
        assert isinstance(response.json()["detail"], list)
    for payload in ([1, 2], "text", 3, None):
        assert_error(
            await api.post(url, json={"eventType": "a.b", "payload": payload}), 422, "validation"
        )
    assert_error(await api.post(url, json={"eventType": "bad type!", "payload": {}}), 422)
    assert await snapshot(api, app_id) == before


async def test_payload_over_the_limit_is_413(new_server: NewServer) -> None:
    server = new_server({"HOOKD_MAX_PAYLOAD_BYTES": "2000"})
    server.start()
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": "Bearer hk_test_token"}
    ) as api:
        await api.post("/api/v1/app", json={"name": "small", "uid": "small"})
        response = await api.post(
            "/api/v1/app/small/msg", json={"eventType": "a.b", "payload": {"x": "y" * 3000}}
        )
        assert_error(response, 413, "payload_too_large")
        huge = await api.post(
            "/api/v1/app/small/msg", json={"eventType": "a.b", "payload": {"x": "y" * 200_000}}
        )
        assert_error(huge, 413, "payload_too_large")
        assert (await api.get("/api/v1/app/small/msg")).json()["data"] == []
        ok = await api.post("/api/v1/app/small/msg", json={"eventType": "a.b", "payload": {"x": 1}})
        assert ok.status_code == 201


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "example.com/hook",
        "http://",
        "javascript:alert(1)",
        "http://exa mple.com",
        "https://example.com:0/x",
    ],
)
async def test_invalid_endpoint_url_is_422(api: httpx.AsyncClient, app_id: str, url: str) -> None:
    before = await snapshot(api, app_id)
    assert_error(
        await api.post(f"/api/v1/app/{app_id}/endpoint", json={"url": url}), 422, "validation"
    )
    assert await snapshot(api, app_id) == before


async def test_invalid_endpoint_fields_are_422(api: httpx.AsyncClient, app_id: str) -> None:
    url = f"/api/v1/app/{app_id}/endpoint"
    ok = "https://example.com/h"
    for body in (
        {"url": ok, "secret": "whsec_tooShort"},
        {"url": ok, "secret": "not base64 !!"},
        {"url": ok, "filterTypes": []},
        {"url": ok, "channels": []},
        {"url": ok, "headers": {"webhook-id": "x"}},
        {"url": ok, "headers": {"bad name": "x"}},
        {"url": ok, "rateLimit": 0},
        {"url": ok, "version": 0},
    ):
        assert_error(await api.post(url, json=body), 422, "validation")


async def test_a_bad_request_is_422_before_an_unknown_owner_is_404(api: httpx.AsyncClient) -> None:
    # An application's and a source's endpoint routes alike check the request first.
    for owner in ("/api/v1/app/app_nope", "/ingest/api/v1/source/src_nope"):
        url = f"{owner}/endpoint"
        assert_error(await api.post(url, json={"url": 5}), 422, "validation")
        assert_error(await api.get(url, params={"limit": 0}), 422, "validation")
        assert_error(await api.put(f"{url}/ep_nope/headers", json={}), 422, "validation")
        assert_error(await api.post(url, json={"url": "https://example.com/h"}), 404, "not_found")
        assert_error(await api.get(f"{url}/ep_nope"), 404, "not_found")


async def test_duplicate_uid_is_409(api: httpx.AsyncClient, app_id: str) -> None:
    app = (await api.get(f"/api/v1/app/{app_id}")).json()
    assert_error(
        await api.post("/api/v1/app", json={"name": "dup", "uid": app["uid"]}), 409, "conflict"
    )
    other = (await api.post("/api/v1/app", json={"name": "other"})).json()
    assert_error(
        await api.patch(f"/api/v1/app/{other['id']}", json={"uid": app["uid"]}), 409, "conflict"
    )
    url = f"/api/v1/app/{app_id}/endpoint"
    assert (
        await api.post(url, json={"url": "https://example.com/a", "uid": "same"})
    ).status_code == 201
    before = await snapshot(api, app_id)
    assert_error(
        await api.post(url, json={"url": "https://example.com/b", "uid": "same"}), 409, "conflict"
    )
    assert await snapshot(api, app_id) == before


async def test_duplicate_event_id_is_409_and_not_stored(
    api: httpx.AsyncClient, app_id: str
) -> None:
    url = f"/api/v1/app/{app_id}/msg"
    first = await api.post(url, json={"eventType": "a.b", "payload": {"v": 1}, "eventId": "e-1"})
    assert first.status_code == 201
    before = await snapshot(api, app_id)
    again = await api.post(url, json={"eventType": "a.b", "payload": {"v": 2}, "eventId": "e-1"})
    assert_error(again, 409, "conflict")
    assert await snapshot(api, app_id) == before


async def test_idempotency_key_replays_the_first_response(
    api: httpx.AsyncClient, app_id: str
) -> None:
    url = f"/api/v1/app/{app_id}/msg"
    headers = {"Idempotency-Key": "same-key"}
    first = await api.post(url, json={"eventType": "a.b", "payload": {"v": 1}}, headers=headers)
    second = await api.post(url, json={"eventType": "a.b", "payload": {"v": 1}}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert len((await api.get(url)).json()["data"]) == 1
    third = await api.post(
        url, json={"eventType": "a.b", "payload": {"v": 3}}, headers={"Idempotency-Key": "other"}
    )
    assert third.json()["id"] != first.json()["id"]


async def test_idempotency_key_replays_other_posts_too(api: httpx.AsyncClient) -> None:
    # Routes other than the message create keep their keys in the middleware's own store.
    headers = {"Idempotency-Key": "app-key"}
    first = await api.post("/api/v1/app", json={"name": "keyed"}, headers=headers)
    second = await api.post("/api/v1/app", json={"name": "keyed"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert second.headers["content-type"] == first.headers["content-type"]


def assert_key_mismatch(response: httpx.Response) -> None:
    assert_error(response, 422, "idempotency_key_mismatch")
    [error] = response.json()["detail"]
    assert error["loc"] == ["header", "idempotency-key"]


async def test_idempotency_key_with_a_different_request_is_422(
    api: httpx.AsyncClient, app_id: str
) -> None:
    """A key reused for a different body or query is refused (as Stripe does), never answered
    with the first request's response; the same request still replays."""
    url = f"/api/v1/app/{app_id}/msg"
    key = {"Idempotency-Key": "reused-key"}
    first = await api.post(url, json={"eventType": "a.b", "payload": {"v": 1}}, headers=key)
    assert first.status_code == 201
    changed = await api.post(url, json={"eventType": "a.b", "payload": {"v": 2}}, headers=key)
    assert_key_mismatch(changed)
    other_query = await api.post(
        url,
        params={"with_content": "false"},
        json={"eventType": "a.b", "payload": {"v": 1}},
        headers=key,
    )
    assert_key_mismatch(other_query)
    same = await api.post(url, json={"eventType": "a.b", "payload": {"v": 1}}, headers=key)
    assert same.json() == first.json() and same.headers.get("idempotent-replayed") == "true"
    assert len((await api.get(url)).json()["data"]) == 1

    # A JSON subtype takes the FastAPI route rather than the fast create (fast_create.py).
    untyped = {"Idempotency-Key": "untyped-key", "content-type": "application/vnd.hookd+json"}
    body = b'{"eventType": "a.b", "payload": {"v": 3}}'
    plain = await api.post(url, content=body, headers=untyped)
    assert plain.status_code == 201, plain.text
    assert_key_mismatch(await api.post(url, content=body.replace(b"3", b"4"), headers=untyped))
    repeat = await api.post(url, content=body, headers=untyped)
    assert repeat.json() == plain.json() and repeat.headers.get("idempotent-replayed") == "true"
    assert len((await api.get(url)).json()["data"]) == 2

    # Other POST routes, through the middleware's own store.
    app_key = {"Idempotency-Key": "reused-app-key"}
    created = await api.post("/api/v1/app", json={"name": "first"}, headers=app_key)
    assert created.status_code == 201
    before = await snapshot(api, app_id)
    assert_key_mismatch(await api.post("/api/v1/app", json={"name": "second"}, headers=app_key))
    assert await snapshot(api, app_id) == before
    again = await api.post("/api/v1/app", json={"name": "first"}, headers=app_key)
    assert again.json() == created.json() and again.headers.get("idempotent-replayed") == "true"


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer"])
async def test_idempotency_keys_hold_for_any_accepted_authorization_form(
    hookd: HookdServer, api: httpx.AsyncClient, app_id: str, scheme: str
) -> None:
    """The key belongs to the authenticated caller, not to the header's exact bytes: every form
    authentication accepts shares it."""
    url = f"/api/v1/app/{app_id}/msg"
    forms = [f"{scheme} {TOKEN}", f"Bearer {TOKEN}", f"{scheme}  {TOKEN}"]
    message = {"eventType": "a.b", "payload": {"scheme": scheme}}
    answers = []
    async with httpx.AsyncClient(base_url=hookd.url, timeout=10) as client:
        for auth in forms:
            headers = {"Authorization": auth, "Idempotency-Key": f"auth-{scheme}"}
            answers.append(await client.post(url, json=message, headers=headers))
        assert {a.status_code for a in answers} == {201}
        assert len({a.json()["id"] for a in answers}) == 1
        assert [a.headers.get("idempotent-replayed") for a in answers[1:]] == ["true", "true"]

        apps = []
        for auth in forms:
            headers = {"Authorization": auth, "Idempotency-Key": f"auth-app-{scheme}"}
            apps.append(await client.post("/api/v1/app", json={"name": scheme}, headers=headers))
        assert {a.status_code for a in apps} == {201}
        assert len({a.json()["id"] for a in apps}) == 1
    listed = (await api.get(url, params={"limit": 100})).json()["data"]
    assert [m["id"] for m in listed] == [answers[0].json()["id"]]


async def test_failed_request_does_not_burn_its_idempotency_key(
    api: httpx.AsyncClient, app_id: str
) -> None:
    url = f"/api/v1/app/{app_id}/msg"
    headers = {"Idempotency-Key": "retry-me"}
    bad = await api.post(url, json={"eventType": "a.b", "payload": []}, headers=headers)
    assert bad.status_code == 422
    good = await api.post(url, json={"eventType": "a.b", "payload": {}}, headers=headers)
    assert good.status_code == 201


async def test_wrong_method_and_bad_query_are_clean_4xx(
    api: httpx.AsyncClient, app_id: str
) -> None:
    assert_error(await api.put("/api/v1/app"), 405, "method_not_allowed")
    assert_error(await api.get("/api/v1/app", params={"limit": 0}), 422, "validation")
    assert_error(await api.get("/api/v1/app", params={"limit": 1000}), 422, "validation")
    assert_error(await api.get(f"/api/v1/app/{app_id}/msg", params={"before": "yesterday"}), 422)


async def test_integers_beyond_64_bits_are_stored_digit_for_digit(
    api: httpx.AsyncClient, app_id: str
) -> None:
    """A payload is any JSON object (issue 14: it was a 422, which the schema did not declare)."""
    big = 1268906569853540092562108099592192
    body = b'{"eventType": "a.b", "payload": {"n": %d, "m": [-%d]}}' % (big, big)
    response = await api.post(
        f"/api/v1/app/{app_id}/msg", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 201, response.text
    fetched = await api.get(f"/api/v1/app/{app_id}/msg/{response.json()['id']}")
    assert b'"n":%d' % big in fetched.content
    assert fetched.json()["payload"] == {"n": big, "m": [-big]}


async def test_concurrent_requests_with_one_key_create_one_message(
    api: httpx.AsyncClient, app_id: str
) -> None:
    """Claims of one group commit: the first holds the key, the others wait for its answer."""
    url = f"/api/v1/app/{app_id}/msg"
    same = {"Idempotency-Key": "raced"}
    answers = await asyncio.gather(
        *(
            api.post(url, json={"eventType": "a.b", "payload": {"n": 0}}, headers=same)
            for _ in range(6)
        ),
        *(
            api.post(
                url, json={"eventType": "a.b", "payload": {}}, headers={"Idempotency-Key": f"k{n}"}
            )
            for n in range(20)
        ),
    )
    raced, distinct = answers[:6], answers[6:]
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in raced}) == 1
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in raced) == 5
    assert len({a.json()["id"] for a in distinct}) == 20
    listed = (await api.get(url, params={"limit": 100})).json()["data"]
    assert len(listed) == 21
