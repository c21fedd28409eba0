"""One client per broker connection, opened lazily and shared by every send to that broker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import structlog

log = structlog.get_logger("hookd.destinations")

ClientT = TypeVar("ClientT")


class ClientPool(Generic[ClientT]):
    """Clients keyed by connection URL; a client that reports itself unusable is replaced."""

    def __init__(
        self,
        close_client: Callable[[ClientT], Awaitable[None]],
        is_usable: Callable[[ClientT], bool],
    ) -> None:
        self._close_client = close_client
        self._is_usable = is_usable
        self._clients: dict[str, ClientT] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, key: str, open_client: Callable[[], Awaitable[ClientT]]) -> ClientT:
        """The client for ``key``, opening it (once, even under concurrent sends) if needed."""
        client = self._clients.get(key)
        if client is not None and self._is_usable(client):
            return client
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            client = self._clients.get(key)
            if client is not None:
                if self._is_usable(client):
                    return client
                del self._clients[key]
                await self._close_quietly(client)
            # A failed open is not cached: the next send tries again, as a retry should.
            client = await open_client()
            self._clients[key] = client
            return client

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await self._close_quietly(client)

    async def _close_quietly(self, client: ClientT) -> None:
        # Closing a client whose broker went away fails in library-specific ways; the client
        # is being dropped either way.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._close_client(client), 5)
        log.debug("closed broker client", client=type(client).__name__)
