"""The Redis queue index (HOOKD_QUEUE_URL) with real Redis, PostgreSQL and hookd processes.

The database stays the record: whatever happens to Redis (its keys deleted, a restart that
loses everything, no Redis at all when hookd starts), every accepted message is delivered.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from hookd.engine.queue.index import RedisIndex
from tests.integration.test_faults_pg import (
    _none_left,
    create_endpoint,
    delivered_numbers,
    send_messages,
)
from tests.pg import create_database, drop_database
from tests.redis_server import (
    SHARED_URL,
    PrivateRedis,
    delete_prefix,
    require_shared_redis,
    unique_prefix,
)
from tests.support import TOKEN, HookdServer, NewServer, Receiver, eventually

pytestmark = pytest.mark.services

CONCURRENCY = 16


def queue_env(url: str, prefix: str) -> dict[str, str]:
    return {"HOOKD_QUEUE_URL": url, "HOOKD_QUEUE_PREFIX": prefix}


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of the test's own on the shared Redis, deleted afterwards."""
    require_shared_redis()
    name = unique_prefix()
    yield name
    delete_prefix(SHARED_URL, name)


@pytest.fixture
async def shared_redis() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(SHARED_URL, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = create_database()
    yield url
    drop_database(url)


def client_of(server: HookdServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )


def deploy(directory: Path, env: dict[str, str]) -> list[HookdServer]:
    """One `--role api` and two `--role worker` processes; the API first in the list."""
    common = {"HOOKD_CONCURRENCY": str(CONCURRENCY), "HOOKD_SHUTDOWN_GRACE": "1", **env}
    api = HookdServer(directory / "api", env={**common, "HOOKD_ROLE": "api"})
    workers = [
        HookdServer(directory / f"worker{n}", env={**common, "HOOKD_ROLE": "worker"})
        for n in (1, 2)
    ]
    api.start()
    for worker in workers:
        worker.start(wait_healthy=False)
    return [api, *workers]


def log_count(server: HookdServer, event: str) -> int:
    return sum(1 for line in server.log_lines() if line.get("event") == event)


async def wait_delivered(receiver: Receiver, count: int) -> None:
    async def complete() -> bool:
        return len(delivered_numbers(receiver)) >= count

    await eventually(complete, timeout=120, interval=0.2)
    assert set(delivered_numbers(receiver)) == set(range(count))


async def test_messages_and_retries_are_dispatched_through_redis(
    prefix: str,  # first: its keys are deleted after the server stopped
    new_server: NewServer,
    receiver: Receiver,
    shared_redis: aioredis.Redis,
) -> None:
    # A long poll interval: new work and due retries reach the worker through Redis.
    server = new_server(
        {**queue_env(SHARED_URL, prefix), "HOOKD_RETRY_SCHEDULE": "3", "HOOKD_POLL_INTERVAL": "60"}
    )
    server.start()
    async with client_of(server) as client:
        receiver.responses = [500]  # the first attempt fails and is retried in 3 s
        app_id = await create_endpoint(client, receiver.url)
        endpoint_id = (await client.get(f"/api/v1/app/{app_id}/endpoint")).json()["data"][0]["id"]
        await send_messages(client, app_id, range(20))

        async def waiting_for_retry() -> bool:
            return await shared_redis.zscore(f"{prefix}:q:due", endpoint_id) is not None

        assert await eventually(waiting_for_retry) is True  # the retry waits in the sorted set
        await receiver.wait_for(21, timeout=30)
    assert set(delivered_numbers(receiver)) == set(range(20))
    groups = await shared_redis.xinfo_groups(f"{prefix}:q:ready")
    assert groups[0]["name"] == "hookd-workers" and groups[0]["entries-read"] > 0
    assert await shared_redis.xlen(f"{prefix}:q:ready") == 0  # handled entries are deleted


async def test_two_workers_share_the_stream_and_survive_a_flush(
    tmp_path: Path, slow_receiver: Receiver, prefix: str, pg_url: str
) -> None:
    total = 400
    servers = deploy(tmp_path, {**queue_env(SHARED_URL, prefix), "HOOKD_DATABASE_URL": pg_url})
    try:
        async with client_of(servers[0]) as client:
            app_id = await create_endpoint(client, slow_receiver.url)
            sending = asyncio.create_task(send_messages(client, app_id, range(total)))
            await slow_receiver.wait_for(total // 4, timeout=60)
            assert delete_prefix(SHARED_URL, prefix) > 0  # Redis forgets the whole index
            await sending
            await wait_delivered(slow_receiver, total)
        counts = delivered_numbers(slow_receiver)
        assert sum(counts.values()) == total  # no lease ran out: nothing was sent twice
        assert await eventually(lambda: _none_left(pg_url)) is True
        # Each worker seeded the index at start; at least one noticed the loss and reseeded.
        seeded = sum(log_count(w, "queue index seeded from the database") for w in servers[1:])
        assert seeded >= 3
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()  # not started: the test starts it
    yield server
    server.stop()


async def test_redis_down_at_start_then_restarted_mid_run_loses_nothing(
    tmp_path: Path, slow_receiver: Receiver, private_redis: PrivateRedis, pg_url: str
) -> None:
    total, early = 2000, 200
    servers = deploy(
        tmp_path, {**queue_env(private_redis.url, "hookd"), "HOOKD_DATABASE_URL": pg_url}
    )
    api, workers = servers[0], servers[1:]
    try:
        async with client_of(api) as client:
            app_id = await create_endpoint(client, slow_receiver.url)
            # No Redis: hookd started all the same and delivers by polling the database.
            await send_messages(client, app_id, range(early))
            await wait_delivered(slow_receiver, early)

            private_redis.start()

            async def connected() -> bool:
                return all(log_count(w, "queue index ready") >= 1 for w in workers)

            assert await eventually(connected, timeout=30) is True
            sending = asyncio.create_task(
                send_messages(client, app_id, range(early, total), retry_failures=True)
            )
            await slow_receiver.wait_for(total // 2, timeout=60)
            await asyncio.to_thread(private_redis.restart)  # every key is gone
            await sending
            await wait_delivered(slow_receiver, total)

            # Both workers read from the new Redis by themselves (a worker whose read failed
            # reseeds it; one that reconnects after another did finds the group there).
            fresh = aioredis.Redis.from_url(private_redis.url, decode_responses=True)
            try:

                async def reconnected() -> bool:
                    seeded = sum(
                        log_count(w, "queue index seeded from the database") for w in workers
                    )
                    consumers = await fresh.xinfo_consumers("hookd:q:ready", "hookd-workers")
                    return seeded >= 3 and len(consumers) == len(workers)

                assert await eventually(reconnected, timeout=30) is True
            finally:
                await fresh.aclose()
        counts = delivered_numbers(slow_receiver)
        assert sum(counts.values()) == total  # no lease ran out: nothing was sent twice
        assert await eventually(lambda: _none_left(pg_url)) is True
        for server in servers:
            assert server.process is not None and server.process.poll() is None
    finally:
        for server in servers:
            server.stop()


def test_a_bad_queue_url_is_refused_at_start(tmp_path: Path) -> None:
    server = HookdServer(tmp_path, env={"HOOKD_QUEUE_URL": "http://127.0.0.1:6379"})
    with pytest.raises(RuntimeError, match="redis:// or rediss://"):
        server.start(timeout=10)


async def test_the_index_script_dedups_promotes_and_acknowledges(
    prefix: str, shared_redis: aioredis.Redis
) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    now_ms = int(now.timestamp() * 1000)
    index = RedisIndex(SHARED_URL, prefix, lambda: now)
    ready, due = f"{prefix}:q:ready", f"{prefix}:q:due"
    try:
        await index.ensure_group()
        # Due now twice: one stream entry. Due later: the earlier time is kept, and a reader is
        # woken once (an empty entry) because the earliest time got earlier.
        await index.update({"ep_a": now_ms, "ep_b": now_ms + 5000})
        earliest = await index.update({"ep_a": now_ms - 10, "ep_b": now_ms + 9000})
        assert earliest == now_ms + 5000
        assert await shared_redis.zscore(due, "ep_b") == now_ms + 5000
        entries: Any = await shared_redis.xrange(ready)  # typed as sync or async by redis-py
        assert [fields["e"] for _, fields in entries] == ["ep_a", ""]

        # Once ep_b's time has come, an update promotes it to the stream.
        later = RedisIndex(
            SHARED_URL, prefix, lambda: datetime.fromtimestamp((now_ms + 5000) / 1000, UTC)
        )
        assert await later.update({}, promote=10) is None
        await later.redis.aclose()
        read: Any = await shared_redis.xreadgroup("hookd-workers", "t", {ready: ">"}, count=10)
        ids = [entry_id for _, messages in read for entry_id, _ in messages]
        assert [fields["e"] for _, messages in read for _, fields in messages] == [
            "ep_a",
            "",
            "ep_b",
        ]
        # Acknowledged entries leave the stream and the group's pending list.
        await index.update({}, acks=ids)
        assert await shared_redis.xlen(ready) == 0
        assert (await shared_redis.xpending(ready, "hookd-workers"))["pending"] == 0
    finally:
        await index.redis.aclose()
