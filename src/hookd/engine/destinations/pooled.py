"""The shape every broker destination shares: a client per broker, opened lazily, one publish.

A subclass says how to open a client (through the SSRF guard) and how to publish with it;
this class pools the clients and turns each publish into an attempt (``publish_attempt``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar, Generic, TypeVar

from hookd.core.delivery import AttemptResult
from hookd.core.destinations import DestinationTarget
from hookd.core.ssrf import Network
from hookd.engine.destinations.client import publish_attempt
from hookd.engine.destinations.pool import ClientPool

ClientT = TypeVar("ClientT")


class PooledDestination(ABC, Generic[ClientT]):
    """A :class:`~hookd.engine.destinations.client.Destination` with pooled clients."""

    # The client library's own connection errors, reported like OSError.
    unreachable: ClassVar[tuple[type[Exception], ...]] = ()

    def __init__(self, allow: tuple[Network, ...]) -> None:
        self._allow = allow
        self._pool: ClientPool[ClientT] = ClientPool(self._close_client, self._usable)

    async def start(self) -> None:
        """Nothing to do: clients open on the first send to each broker."""

    async def close(self) -> None:
        await self._pool.close()

    async def send(
        self,
        target: DestinationTarget,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float,  # noqa: ASYNC109 - the deadline is per destination
    ) -> AttemptResult:
        async def publish() -> bytes:
            client = await self._pool.get(self._client_key(target), lambda: self._open(target))
            return await self._publish(client, target, headers, body, timeout)

        return await publish_attempt(target, timeout, publish, self.unreachable)

    def _client_key(self, target: DestinationTarget) -> str:
        """Which sends share a client: by default every send to the same broker URL."""
        return target.connection_url

    def _usable(self, client: ClientT) -> bool:
        """Whether a pooled client can still be used; replaced when not."""
        return True

    @abstractmethod
    async def _open(self, target: DestinationTarget) -> ClientT:
        """Connect to the broker at an address the SSRF guard checked."""

    @abstractmethod
    async def _close_client(self, client: ClientT) -> None:
        """Release the client's connections."""

    @abstractmethod
    async def _publish(
        self,
        client: ClientT,
        target: DestinationTarget,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float,  # noqa: ASYNC109 - the deadline is per destination
    ) -> bytes:
        """Publish once and return the broker's acknowledgement as the attempt's response."""
