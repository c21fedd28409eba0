"""Redis Streams: ``XADD`` the body and the headers (as JSON) to a stream, optionally capped."""

from __future__ import annotations

from collections.abc import Mapping

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from hookd.core.delivery import AttemptResult
from hookd.core.destinations import DestinationTarget
from hookd.core.ssrf import Network
from hookd.engine.destinations.destination import headers_json, publish_attempt, receipt
from hookd.engine.destinations.guard import checked_address
from hookd.engine.destinations.pool import ClientPool

# Slow sockets are cut by the attempt's own deadline; this only bounds a stuck connect.
CONNECT_TIMEOUT = 10.0


class RedisStreamDestination:
    """Publishes to Redis Streams, one client (with its connection pool) per Redis URL."""

    def __init__(self, allow: tuple[Network, ...]) -> None:
        self._allow = allow
        self._pool: ClientPool[redis.Redis] = ClientPool(_close, lambda _client: True)

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
            client = await self._pool.get(target.connection_url, lambda: self._open(target))
            maxlen = target.option("maxlen")
            entry_id = await client.xadd(
                target.resource,
                {"body": body, "headers": headers_json(headers)},
                maxlen=int(maxlen) if maxlen else None,
                approximate=True,  # "~": trimming whole macro nodes keeps XADD O(1)
            )
            text = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
            return receipt(stream=target.resource, id=text)

        return await publish_attempt(target, timeout, publish, (RedisConnectionError,))

    async def _open(self, target: DestinationTarget) -> redis.Redis:
        address = await checked_address(target.host, target.port, self._allow)
        return redis.Redis(
            # TLS verifies the certificate against the name, so only plain TCP is pinned.
            host=target.host if target.tls else address,
            port=target.port,
            db=int(target.connection_url.rsplit("/", 1)[1]),
            username=target.username or None,
            password=target.password,
            ssl=target.tls,
            socket_connect_timeout=CONNECT_TIMEOUT,
            # hookd retries the delivery on its own schedule; client retries would only hide
            # an unreachable broker behind seconds of backoff.
            retry=Retry(NoBackoff(), 0),
            client_name="hookd",
        )


async def _close(client: redis.Redis) -> None:
    await client.aclose()
