"""Fault tests on PostgreSQL: 1 API and 2 worker processes deliver 2,000 messages to a real
receiver while a worker is killed (SIGKILL) or the database server restarts.

Nothing accepted is lost; duplicates come only from attempts in flight at a crash.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.pg import PrivateCluster, create_database, drop_database, migrate_database
from tests.support import TOKEN, HookdServer, Receiver, eventually

MESSAGES = 2000
CONCURRENCY = 16  # per worker: the most attempts one worker can have in flight
CLIENTS = 16  # parallel message producers
pytestmark = pytest.mark.services


@dataclass
class Deployment:
    """One `--role api` and two `--role worker` processes sharing one PostgreSQL database."""

    database_url: str
    api: HookdServer
    workers: list[HookdServer]

    def stop(self) -> None:
        for server in [self.api, *self.workers]:
            server.stop()


def deploy(database_url: str, directory: Path) -> Deployment:
    env = {
        "HOOKD_DATABASE_URL": database_url,
        "HOOKD_LEASE_SECONDS": "4",  # a dead worker's claims come back within ~4 s
        "HOOKD_CONCURRENCY": str(CONCURRENCY),
        "HOOKD_SHUTDOWN_GRACE": "1",
    }
    api = HookdServer(directory / "api", env={**env, "HOOKD_ROLE": "api"})
    workers = [
        HookdServer(directory / f"worker{n}", env={**env, "HOOKD_ROLE": "worker"}) for n in (1, 2)
    ]
    api.start()
    for worker in workers:
        worker.start(wait_healthy=False)
    return Deployment(database_url, api, workers)


@pytest.fixture
def shared_pg(tmp_path: Path) -> Iterator[Deployment]:
    """The deployment on a throwaway database of the machine's PostgreSQL server."""
    url = create_database()
    deployment = deploy(url, tmp_path)
    yield deployment
    deployment.stop()
    drop_database(url)


@pytest.fixture
def private_pg(tmp_path: Path) -> Iterator[tuple[Deployment, PrivateCluster]]:
    """The deployment on a PostgreSQL server of its own, which the test may restart."""
    cluster = PrivateCluster()
    cluster.start()
    try:
        migrate_database(cluster.url)
        deployment = deploy(cluster.url, tmp_path)
        yield deployment, cluster
        deployment.stop()
    finally:
        cluster.stop()


async def create_endpoint(client: httpx.AsyncClient, url: str) -> str:
    app = (await client.post("/api/v1/app", json={"name": "faults"})).json()
    response = await client.post(f"/api/v1/app/{app['id']}/endpoint", json={"url": url})
    assert response.status_code == 201, response.text
    return str(app["id"])


async def send_messages(
    client: httpx.AsyncClient, app_id: str, numbers: range, *, retry_failures: bool = False
) -> None:
    """Create one message per number, ``CLIENTS`` at a time.

    With ``retry_failures`` a producer retries what failed (the server down) under the same
    ``eventId``, as real producers do; a 409 then means the earlier try was accepted.
    """
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in numbers:
        queue.put_nowait(number)

    async def producer() -> None:
        while not queue.empty():
            number = queue.get_nowait()
            body: dict[str, object] = {
                "eventType": "fault.test",
                "eventId": f"e{number}",
                "payload": {"n": number},
            }
            while not await _accepted(client, f"/api/v1/app/{app_id}/msg", body):
                assert retry_failures, f"message {number} was not accepted"
                await asyncio.sleep(0.2)

    await asyncio.gather(*(producer() for _ in range(CLIENTS)))


async def _accepted(client: httpx.AsyncClient, path: str, body: dict[str, object]) -> bool:
    try:
        response = await client.post(path, json=body)
    except httpx.TransportError:
        return False
    return response.status_code in (201, 409)


def delivered_numbers(receiver: Receiver) -> Counter[int]:
    return Counter(json.loads(request.body)["n"] for request in receiver.requests)


async def wait_all_delivered(receiver: Receiver, timeout: float = 120) -> Counter[int]:
    async def complete() -> Counter[int] | None:
        counts = delivered_numbers(receiver)
        return counts if len(counts) == MESSAGES else None

    counts: Counter[int] = await eventually(complete, timeout=timeout, interval=0.2)
    assert set(counts) == set(range(MESSAGES))
    return counts


async def undelivered_rows(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM deliveries WHERE status <> 0"))
    finally:
        await conn.close()


# client_for(server): an admin client for the server, closed after the test.
ClientFor = Callable[[HookdServer], httpx.AsyncClient]


@pytest.fixture
async def client_for() -> AsyncIterator[ClientFor]:
    clients: list[httpx.AsyncClient] = []

    def make(server: HookdServer) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def test_a_killed_worker_loses_nothing(
    shared_pg: Deployment, slow_receiver: Receiver, client_for: ClientFor
) -> None:
    client = client_for(shared_pg.api)
    app_id = await create_endpoint(client, slow_receiver.url)
    sending = asyncio.create_task(send_messages(client, app_id, range(MESSAGES)))
    await slow_receiver.wait_for(MESSAGES // 4, timeout=60)
    victim, survivor = shared_pg.workers
    victim.kill()  # SIGKILL mid-run: its claims stay leased until the lease runs out
    await sending

    counts = await wait_all_delivered(slow_receiver)
    duplicates = sum(count - 1 for count in counts.values())
    assert duplicates <= CONCURRENCY, f"{duplicates} duplicates; at most {CONCURRENCY} in flight"
    assert survivor.process is not None and survivor.process.poll() is None
    assert await eventually(lambda: _none_left(shared_pg.database_url)) is True


async def test_a_postgres_restart_loses_nothing(
    private_pg: tuple[Deployment, PrivateCluster], slow_receiver: Receiver, client_for: ClientFor
) -> None:
    deployment, cluster = private_pg
    client = client_for(deployment.api)
    app_id = await create_endpoint(client, slow_receiver.url)
    first, second = range(MESSAGES // 2), range(MESSAGES // 2, MESSAGES)
    await send_messages(client, app_id, first)
    await slow_receiver.wait_for(MESSAGES // 4, timeout=60)
    sending = asyncio.create_task(send_messages(client, app_id, second, retry_failures=True))
    await asyncio.to_thread(cluster.restart)  # every connection of every process is cut
    await sending

    await wait_all_delivered(slow_receiver)
    for server in [deployment.api, *deployment.workers]:
        assert server.process is not None and server.process.poll() is None
    health = await client.get("/api/v1/health")
    assert health.status_code == 200
    assert await eventually(lambda: _none_left(deployment.database_url)) is True


async def _none_left(database_url: str) -> bool:
    return await undelivered_rows(database_url) == 0
