"""Redis Streams: ``XADD`` the body and the headers (as JSON) to a stream, optionally capped."""

from __future__ import annotations

from collections.abc import Mapping

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from hookd.core.destinations import DestinationTarget
from hookd.engine.destinations.client import headers_json, receipt
from hookd.engine.destinations.guard import checked_address
from hookd.engine.destinations.pooled import PooledDestination

# Slow sockets are cut by the attempt's own deadline; this only bounds a stuck connect.
CONNECT_TIMEOUT = 10.0


class RedisStreamDestination(PooledDestination[redis.Redis]):
    """Publishes to Redis Streams, one client (with its connection pool) per Redis URL."""

    unreachable = (RedisConnectionError,)

    async def _publish(
        self,
        client: redis.Redis,
        target: DestinationTarget,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float,  # noqa: ASYNC109 - the deadline is per destination
    ) -> bytes:
        maxlen = target.option("maxlen")
        entry_id = await client.xadd(
            target.resource,
            {"body": body, "headers": headers_json(headers)},
            maxlen=int(maxlen) if maxlen else None,
            approximate=True,  # "~": trimming whole macro nodes keeps XADD O(1)
        )
        text = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        return receipt(stream=target.resource, id=text)

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

    async def _close_client(self, client: redis.Redis) -> None:
        await client.aclose()
