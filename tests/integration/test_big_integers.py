"""An integer beyond 64 bits in a request body is a 422, on every route and both databases.

JSON allows any integer; orjson (the answers' encoder), SQLite's INTEGER and PostgreSQL's
bigint hold 64 bits. Python would parse ``2**64`` and the request would then fail when its
answer or its row is written (a 500). hookd refuses such a value at the edge (``api/nul.py``),
with the ``loc`` of the field, wherever it is nested. A message payload is stored as the JSON
the producer sent, so it keeps its integers whole.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.test_nul_characters import _fill, _fixtures

pytestmark = pytest.mark.asyncio

BIG = 2**64
NEGATIVE = -(2**63) - 1

# (method, path, JSON body, the expected loc); paths are formatted with _fixtures' ids.
CASES: list[tuple[str, str, dict[str, Any], list[Any]]] = [
    ("POST", "/api/v1/app", {"name": "a", "rateLimit": BIG}, ["body", "rateLimit"]),
    (
        "POST",
        "/api/v1/app/{app}/endpoint",
        {"url": "http://127.0.0.1:9/", "filter": {"data.amount": {"$gt": BIG}}},
        ["body", "filter", "data.amount", "$gt"],
    ),
    (
        "PATCH",
        "/api/v1/app/{app}/endpoint/{ep}",
        {"filter": {"n": [1, NEGATIVE]}},
        ["body", "filter", "n", 1],
    ),
    (
        "POST",
        "/ingest/api/v1/source/{src}/endpoint",
        {"url": "http://127.0.0.1:9/", "filter": {"n": BIG}},
        ["body", "filter", "n"],
    ),
    (
        "POST",
        "/ingest/api/v1/source",
        {"name": "s", "type": "generic-webhook", "config": {"auth": "none", "x": BIG}},
        ["body", "config", "x"],
    ),
    (
        "POST",
        "/api/v1/event-type",
        {"name": "big.x", "schemas": {"1": {"maximum": BIG}}},
        ["body", "schemas", "1", "maximum"],
    ),
    (
        "POST",
        "/api/v1/app/{app}/endpoint",
        {"url": "http://127.0.0.1:9/", "timeoutMs": BIG},
        ["body", "timeoutMs"],
    ),
]


async def test_integers_beyond_64_bits_are_422(api: httpx.AsyncClient, app_id: str) -> None:
    ids = await _fixtures(api, app_id)
    wrong: list[tuple[object, ...]] = []
    for method, path, body, loc in CASES:
        url = _fill(path, ids)
        response = await api.request(method, url, json=_fill(body, ids))
        answer = response.json() if response.content else {}
        detail = answer.get("detail")
        locs = [item.get("loc") for item in detail] if isinstance(detail, list) else []
        if response.status_code != 422 or answer.get("code") != "validation" or loc not in locs:
            wrong.append((method, url, response.status_code, answer))
    assert not wrong, "\n".join(map(str, wrong))


async def test_a_payload_keeps_its_big_integers(api: httpx.AsyncClient, app_id: str) -> None:
    ids = await _fixtures(api, app_id)
    sent = {"big": BIG, "negative": NEGATIVE, "list": [2**70]}
    created = await api.post(
        f"/api/v1/app/{app_id}/msg", json={"eventType": ids["et"], "payload": sent}
    )
    assert created.status_code == 201, created.text
    assert created.json()["payload"] == sent
    fetched = await api.get(f"/api/v1/app/{app_id}/msg/{created.json()['id']}")
    assert fetched.status_code == 200, fetched.text
    assert fetched.json()["payload"] == sent
