"""A NUL character in a text field, a path id or a query parameter is a 422 on both databases.

PostgreSQL's text columns cannot hold U+0000 (asyncpg raises ``CharacterNotInRepertoireError``);
SQLite stores it. hookd refuses it at the edge so both databases answer alike. A message
payload is stored as JSON bytes, so a ``\\u0000`` escape inside it stays accepted.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.asyncio

NUL = "a\x00b"


async def _fixtures(api: httpx.AsyncClient, app_id: str) -> dict[str, str]:
    """An endpoint, an event type, a message and a source to aim the odd requests at."""
    endpoint = await api.post(
        f"/api/v1/app/{app_id}/endpoint", json={"url": "http://127.0.0.1:9/hook"}
    )
    assert endpoint.status_code == 201, endpoint.text
    event_type = f"nul.{uuid.uuid4().hex[:8]}"
    created = await api.post("/api/v1/event-type", json={"name": event_type})
    assert created.status_code == 201, created.text
    message = await api.post(
        f"/api/v1/app/{app_id}/msg", json={"eventType": event_type, "payload": {}}
    )
    assert message.status_code == 201, message.text
    source = await api.post(
        "/ingest/api/v1/source",
        json={"name": "nul source", "type": "generic-webhook", "config": {"auth": "none"}},
    )
    assert source.status_code == 201, source.text
    return {
        "app": app_id,
        "ep": endpoint.json()["id"],
        "et": event_type,
        "msg": message.json()["id"],
        "src": source.json()["id"],
    }


# (method, path, JSON body or None, query or None); paths are formatted with _fixtures' ids.
CASES: list[tuple[str, str, dict[str, Any] | None, dict[str, str] | None]] = [
    # text fields of bodies
    ("POST", "/api/v1/app", {"name": NUL}, None),
    ("POST", "/api/v1/app", {"name": "ok", "metadata": {"k": NUL}}, None),
    ("PATCH", "/api/v1/app/{app}", {"name": NUL}, None),
    ("POST", "/api/v1/app/{app}/msg", {"eventType": "{et}", "payload": {}, "eventId": NUL}, None),
    (
        "POST",
        "/api/v1/app/{app}/msg",
        {"eventType": "{et}", "payload": {}, "channels": [NUL]},
        None,
    ),
    ("POST", "/api/v1/app/{app}/msg", {"eventType": "{et}", "payload": {}, "tags": [NUL]}, None),
    ("POST", "/api/v1/app/{app}/endpoint", {"url": "http://127.0.0.1:9/a\x00"}, None),
    (
        "POST",
        "/api/v1/app/{app}/endpoint",
        {"url": "http://127.0.0.1:9/", "description": NUL},
        None,
    ),
    ("PATCH", "/api/v1/app/{app}/endpoint/{ep}", {"description": NUL}, None),
    ("PATCH", "/api/v1/app/{app}/endpoint/{ep}", {"filterTypes": [NUL]}, None),
    ("PUT", "/api/v1/app/{app}/endpoint/{ep}/headers", {"headers": {"X-A": NUL}}, None),
    ("POST", "/api/v1/event-type", {"name": "nul.x", "description": NUL}, None),
    ("PATCH", "/api/v1/event-type/{et}", {"description": NUL}, None),
    ("PUT", "/api/v1/event-type/{et}", {"description": NUL}, None),
    (
        "POST",
        "/ingest/api/v1/source",
        {"name": NUL, "type": "generic-webhook", "config": {"auth": "none"}},
        None,
    ),
    (
        "POST",
        "/api/v1/operational-webhook/endpoint",
        {"url": "http://127.0.0.1:9/", "description": NUL},
        None,
    ),
    # ids in paths
    ("GET", "/api/v1/app/a%00b", None, None),
    ("DELETE", "/api/v1/app/a%00b", None, None),
    ("GET", "/api/v1/app/{app}/endpoint/a%00b", None, None),
    ("GET", "/api/v1/app/{app}/msg/a%00b", None, None),
    ("GET", "/api/v1/app/{app}/msg/{msg}/attempt/a%00b", None, None),
    ("GET", "/api/v1/app/{app}/attempt/endpoint/a%00b", None, None),
    ("GET", "/api/v1/event-type/a%00b", None, None),
    ("PUT", "/api/v1/event-type/a%00b", {"description": "x"}, None),
    ("GET", "/ingest/api/v1/source/a%00b", None, None),
    ("GET", "/api/v1/operational-webhook/endpoint/a%00b", None, None),
    ("POST", "/api/v1/app/a%00b/msg", {"eventType": "{et}", "payload": {}}, None),
    # query parameters
    ("GET", "/api/v1/app", None, {"iterator": NUL}),
    ("GET", "/api/v1/app/{app}/msg", None, {"channel": NUL}),
    ("GET", "/api/v1/app/{app}/msg", None, {"event_types": NUL}),
    ("GET", "/api/v1/app/{app}/msg", None, {"iterator": NUL}),
    ("GET", "/api/v1/app/{app}/attempt/endpoint/{ep}", None, {"channel": NUL}),
    ("GET", "/api/v1/app/{app}/endpoint/{ep}/msg", None, {"channel": NUL}),
    ("GET", "/api/v1/app/{app}/attempt/msg/{msg}", None, {"endpoint_id": NUL}),
]


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids) if "{" in value else value
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


async def test_nul_characters_are_422_on_every_database(
    api: httpx.AsyncClient, app_id: str
) -> None:
    ids = await _fixtures(api, app_id)
    wrong: list[tuple[object, ...]] = []
    for method, path, body, query in CASES:
        url = _fill(path, ids)
        try:
            response = await api.request(method, url, json=_fill(body, ids), params=query)
        except httpx.HTTPError as exc:
            wrong.append((method, url, body, query, repr(exc)))
            continue
        answer = response.json() if response.content else {}
        if response.status_code != 422 or answer.get("code") != "validation":
            wrong.append((method, url, body, query, response.status_code, answer))
    assert not wrong, "\n".join(map(str, wrong))
    # Nothing was stored under the refused names.
    apps = (await api.get("/api/v1/app", params={"limit": 250})).json()["data"]
    assert not any("\x00" in app["name"] for app in apps)


async def test_nul_escape_inside_a_payload_is_kept(api: httpx.AsyncClient, app_id: str) -> None:
    ids = await _fixtures(api, app_id)
    sent = {"text": "a\x00b", "a\x00key": ["\x00"]}
    created = await api.post(
        f"/api/v1/app/{app_id}/msg", json={"eventType": ids["et"], "payload": sent}
    )
    assert created.status_code == 201, created.text
    assert created.json()["payload"] == sent
    fetched = await api.get(f"/api/v1/app/{app_id}/msg/{created.json()['id']}")
    assert fetched.json()["payload"] == sent
    call = await api.post(
        f"/api/v1/app/{app_id}/msg",
        json={"eventType": ids["et"], "payload": {}, "payloadVersions": {"2": sent}},
    )
    assert call.status_code == 201, call.text
