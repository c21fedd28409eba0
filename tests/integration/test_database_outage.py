"""The database goes away: every route answers 503 with Retry-After, and recovers without a restart.

A provider or producer that gets a 503 retries; nothing was acknowledged, so nothing is lost.
Runs on a PostgreSQL server of the test's own (never the machine's shared one), stopped and
started again while hookd keeps running.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.integration.inbound.signers import github_headers
from tests.pg import PrivateCluster
from tests.support import TOKEN, HookdServer, eventually

pytestmark = pytest.mark.services
GITHUB_SECRET = "outage-secret"


@pytest.fixture
def server(cluster: PrivateCluster, tmp_path: Path) -> Iterator[HookdServer]:
    server = HookdServer(tmp_path / "api", env={"HOOKD_DATABASE_URL": cluster.url})
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def api(server: HookdServer) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
        yield client


async def test_database_outage_is_503_with_retry_after_and_recovers(
    cluster: PrivateCluster, api: httpx.AsyncClient
) -> None:
    app = (await api.post("/api/v1/app", json={"name": "outage"})).json()
    source = await api.post(
        "/ingest/api/v1/source",
        json={"name": "gh", "type": "github", "config": {"secret": GITHUB_SECRET}},
    )
    assert source.status_code == 201, source.text
    ingest_url = source.json()["ingestUrl"]
    body = orjson.dumps({"action": "opened", "issue": {"number": 7}})

    async def requests() -> list[httpx.Response]:
        message = {"eventType": "order.paid", "payload": {"id": 1}}
        return [
            await api.get("/api/v1/app"),
            await api.get(f"/api/v1/app/{app['id']}"),
            await api.post(f"/api/v1/app/{app['id']}/msg", json=message),
            await api.post(
                f"/api/v1/app/{app['id']}/msg",
                json=message,
                headers={"idempotency-key": "outage-1"},
            ),
            await api.post(
                ingest_url, content=body, headers=github_headers(body, GITHUB_SECRET, "issues")
            ),
        ]

    cluster.pause()
    for response in await requests():
        assert response.status_code == 503, (response.request.url, response.text)
        assert response.json()["code"] == "database_unavailable"
        assert response.json()["detail"]
        assert int(response.headers["retry-after"]) > 0

    cluster.resume()

    async def recovered() -> list[httpx.Response] | None:
        answers = await requests()
        return answers if all(r.status_code < 500 for r in answers) else None

    answers = await eventually(recovered, timeout=30, interval=0.5)
    assert [r.status_code for r in answers] == [200, 200, 201, 201, 200]
