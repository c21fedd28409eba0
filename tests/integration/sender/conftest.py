"""Fixtures for the HTTP sender's tests: raw servers, aiohttp receivers, a sender."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from hookd.engine.http.sender import HttpSender
from tests.integration.sender.peers import ALLOW, UA, RawServer, Reply, StartApp, StartRaw
from tests.support import free_port


@pytest.fixture
async def raw() -> AsyncIterator[StartRaw]:
    servers: list[RawServer] = []

    async def start(reply: Reply, after: str = "keep") -> RawServer:
        server = RawServer(reply, after)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def serve_app() -> AsyncIterator[StartApp]:
    """Start aiohttp servers (one handler for every path); returns the port."""
    runners: list[web.AppRunner] = []

    async def start(handler: Any, *, hosts: tuple[str, ...] = ("127.0.0.1",), **site: Any) -> int:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        runners.append(runner)
        port = free_port()
        for host in hosts:
            await web.TCPSite(runner, host, port, **site).start()
        return port

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def sender() -> AsyncIterator[HttpSender]:
    http = HttpSender(ALLOW, user_agent=UA)
    await http.start()
    yield http
    await http.close()
