"""Unauthenticated requests cannot fill the disk: a rejected body is kept only in part, repeated
rejections from one address are counted on one record, and past a rate they get 429 and are not
stored at all (issue 14)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.integration.inbound.signers import github_headers
from tests.support import TOKEN, HookdServer

MIB = 1024 * 1024
KEPT = 4096  # HOOKD_REJECTED_BODY_BYTES's default


# start_server(name, **settings): a started server, stopped after the test.
StartServer = Callable[..., HookdServer]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    servers: list[HookdServer] = []

    def start(name: str, **env: str) -> HookdServer:
        server = HookdServer(tmp_path / name, env=env)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def database_bytes(server: HookdServer) -> int:
    files = [server.data_dir / name for name in ("hookd.db", "hookd.db-wal")]
    return sum(path.stat().st_size for path in files if path.exists())


async def make_github_source(client: httpx.AsyncClient, secret: str = "s") -> tuple[str, str]:
    fields = {"name": "gh", "type": "github", "config": {"secret": secret}}
    created = (await client.post("/ingest/api/v1/source", json=fields)).json()
    return created["id"], created["ingestUrl"]


async def flood(url: str, count: int, concurrency: int = 8) -> list[int]:
    """``count`` unsigned 1 MiB POSTs, ``concurrency`` at a time; their statuses."""
    body = b"x" * MIB
    statuses: list[int] = []
    async with httpx.AsyncClient(timeout=30) as client:

        async def one() -> None:
            response = await client.post(url, content=body)
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert int(response.headers["retry-after"]) >= 1
                assert response.json()["code"] == "rate_limited"

        for start in range(0, count, concurrency):
            await asyncio.gather(*(one() for _ in range(min(concurrency, count - start))))
    return statuses


async def all_requests(client: httpx.AsyncClient, source_id: str) -> list[dict[str, object]]:
    page = await client.get(f"/ingest/api/v1/source/{source_id}/request", params={"limit": 250})
    return list(page.json()["data"])


async def test_a_flood_of_unsigned_megabytes_grows_the_database_by_a_bounded_amount(
    start_server: StartServer,
) -> None:
    # The defaults, but a coalescing window no slow machine outlasts during the flood.
    server = start_server("defaults", HOOKD_REJECTED_COALESCE_SECONDS="3600")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
        source_id, url = await make_github_source(client)
        before = database_bytes(server)
        statuses = await flood(url, 200)
        grown = database_bytes(server) - before
        assert set(statuses) <= {401, 429}, statuses
        # 200 MiB arrived; before the fix every body was stored whole (252 MB).
        assert grown < 2 * MIB, grown
        records = await all_requests(client, source_id)
    # Every 401 is on record: coalesced, one address and one code, on one record.
    assert [(r["outcome"], r["requestCount"]) for r in records] == [
        ("rejected", statuses.count(401))
    ]
    [record] = records
    assert record["verification"] == {
        "ok": False,
        "code": "missing_header",
        "reason": "missing header X-Hub-Signature-256",
    }
    assert (record["bodySize"], record["bodyTruncated"]) == (MIB, True)
    if statuses.count(401) > 1:
        assert record["lastReceivedAt"] is not None


async def test_rejected_bodies_are_kept_in_part_even_with_coalescing_and_the_rate_limit_off(
    start_server: StartServer,
) -> None:
    server = start_server(
        "truncation", HOOKD_REJECTED_RATE_LIMIT="0", HOOKD_REJECTED_COALESCE_SECONDS="0"
    )
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
        source_id, url = await make_github_source(client)
        before = database_bytes(server)
        statuses = await flood(url, 200)
        grown = database_bytes(server) - before
        assert statuses == [401] * 200
        assert grown < 8 * MIB, grown  # 200 records of 4 KiB and their headers
        records = await all_requests(client, source_id)
        assert len(records) == 200
        assert {(r["requestCount"], r["bodySize"], r["bodyTruncated"]) for r in records} == {
            (1, MIB, True)
        }
        path = f"/ingest/api/v1/source/{source_id}/request/{records[0]['id']}"
        detail = await client.get(path)
        assert detail.json()["bodyText"] == "x" * KEPT
        # Only part of the body is left: a forced replay would forward a cut body.
        forced = await client.post(f"{path}/replay", params={"force": "true"})
        assert (forced.status_code, forced.json()["code"]) == (409, "not_replayable")


async def test_rejections_past_the_rate_get_429_and_accepted_requests_do_not(
    start_server: StartServer,
) -> None:
    # One rejection per 1000 s and address: the second one is over the limit.
    server = start_server("limited", HOOKD_REJECTED_RATE_LIMIT="0.001")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
        source_id, url = await make_github_source(client, "secret")
        _, other_url = await make_github_source(client, "secret")
        assert (await client.post(url, content=b"{}")).status_code == 401
        limited = await client.post(url, content=b"{}")
        assert limited.status_code == 429
        assert limited.headers["content-type"] == "application/json"
        assert limited.json()["code"] == "rate_limited" and limited.json()["detail"]
        assert 1 <= int(limited.headers["retry-after"]) <= 1000
        # Per source and address: another source's bucket is its own.
        assert (await client.post(other_url, content=b"{}")).status_code == 401
        # A request that verifies is never limited, from the same address.
        body = orjson.dumps({"zen": "z"})
        signed = await client.post(url, content=body, headers=github_headers(body, "secret", "x"))
        assert signed.status_code == 200
        records = await all_requests(client, source_id)
    # The limited request was not stored (nor counted).
    assert [(r["outcome"], r["requestCount"]) for r in records] == [
        ("accepted", 1),
        ("rejected", 1),
    ]
