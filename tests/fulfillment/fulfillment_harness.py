"""Test harness: request documents, an in-process client and a real uvicorn server.

A plain module rather than conftest.py, so test files import its helpers explicitly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from hookd.fulfillment import Fulfillment

FIXTURES = Path(__file__).parent / "fixtures"
REPO_ROOT = Path(__file__).resolve().parents[2]


def load_fixture(name: str) -> dict[str, Any]:
    """A request document from fixtures/, parsed."""
    document: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return document


@contextlib.asynccontextmanager
async def asgi_client(app: Fulfillment) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client that calls the app in-process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fulfillment.test") as client:
        yield client


@contextlib.asynccontextmanager
async def uvicorn_server(app: Fulfillment) -> AsyncIterator[httpx.AsyncClient]:
    """Serve the app with uvicorn on a free loopback port; yield a client bound to it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield client
    finally:
        server.should_exit = True
        await task
        sock.close()
