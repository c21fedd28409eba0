"""Helpers for the delivery-engine tests: servers with their own settings on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.pg import create_database, drop_database
from tests.support import TOKEN, HookdServer, Received, Receiver

ServerFactory = Callable[..., HookdServer]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerFactory]:
    """Start hookd servers with extra settings, on SQLite or on one shared PostgreSQL database."""
    started: list[HookdServer] = []
    database = create_database() if request.param == "postgresql" else None

    def make(env: dict[str, str] | None = None, *, name: str = "server", **kw: Any) -> HookdServer:
        settings = {"HOOKD_SHUTDOWN_GRACE": "1", **(env or {})}
        if database is not None:
            settings["HOOKD_DATABASE_URL"] = database
        server = HookdServer(tmp_path / name, env=settings)
        started.append(server)
        server.start(**kw)
        return server

    yield make
    for server in started:
        server.stop()
    if database is not None:
        drop_database(database)


def client(server: HookdServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )


class Gate:
    """A receiver behaviour that holds every request until released, counting concurrency."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.released = asyncio.Event()
        self.in_flight: dict[str, int] = {}
        self.max_in_flight: dict[str, int] = {}

    async def __call__(self, request: Received) -> web.Response:
        path = request.path
        self.in_flight[path] = self.in_flight.get(path, 0) + 1
        self.max_in_flight[path] = max(self.max_in_flight.get(path, 0), self.in_flight[path])
        try:
            await self.released.wait()
        finally:
            self.in_flight[path] -= 1
        return web.Response(status=self.status)


@asynccontextmanager
async def gated_receiver() -> AsyncIterator[tuple[Receiver, Gate]]:
    """A receiver whose requests hang until ``gate.released`` is set (always set at exit)."""
    gate = Gate()
    receiver = Receiver()
    receiver.default = gate
    await receiver.start()
    try:
        yield receiver, gate
    finally:
        gate.released.set()
        await receiver.stop()


class Tracker:
    """A receiver behaviour that answers ``status`` and records the highest concurrency seen."""

    def __init__(self, status: int, delay: float = 0.02) -> None:
        self.status = status
        self.delay = delay
        self.in_flight = 0
        self.max_in_flight = 0

    async def __call__(self, _: Received) -> web.Response:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)  # lets overlapping requests overlap
        finally:
            self.in_flight -= 1
        return web.Response(status=self.status)


async def create_app(api: httpx.AsyncClient, name: str) -> str:
    response = await api.post("/api/v1/app", json={"name": name})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def create_endpoint(api: httpx.AsyncClient, app_id: str, **fields: Any) -> dict[str, Any]:
    response = await api.post(f"/api/v1/app/{app_id}/endpoint", json=fields)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def send(api: httpx.AsyncClient, app_id: str, n: int, **fields: Any) -> str:
    body = {"eventType": "a.b", "payload": {"n": n}, **fields}
    response = await api.post(f"/api/v1/app/{app_id}/msg", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def health(api: httpx.AsyncClient, app_id: str, endpoint_id: str) -> dict[str, Any]:
    response = await api.get(f"/api/v1/app/{app_id}/endpoint/{endpoint_id}/health")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result
