"""NATS JetStream: publish and wait for the stream's acknowledgement, deduplicated by message id."""

from __future__ import annotations

from collections.abc import Mapping

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NatsClient

from hookd.core.destinations import DestinationTarget
from hookd.engine.destinations.client import BrokerRejected, log, receipt, webhook_id
from hookd.engine.destinations.guard import checked_address, host_for_url
from hookd.engine.destinations.pooled import PooledDestination

CONNECT_TIMEOUT = 10.0


class NatsJetStreamDestination(PooledDestination[NatsClient]):
    """Publishes to JetStream subjects, one connection per NATS server URL."""

    unreachable = (nats.errors.NoServersError, nats.errors.ConnectionClosedError)

    async def _publish(
        self,
        client: NatsClient,
        target: DestinationTarget,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float,  # noqa: ASYNC109 - the deadline is per destination
    ) -> bytes:
        nats_headers = dict(headers)
        msg_id = webhook_id(headers)
        if msg_id is not None:
            # JetStream drops a second message with the same id inside its duplicate
            # window, so a retry after a lost acknowledgement is not stored twice.
            nats_headers["Nats-Msg-Id"] = msg_id
        try:
            ack = await client.jetstream().publish(
                target.resource,
                body,
                timeout=timeout,
                stream=target.option("stream"),
                headers=nats_headers,
            )
        except nats.js.errors.NoStreamResponseError as exc:
            raise BrokerRejected(
                f"no JetStream stream captures subject {target.resource!r}"
            ) from exc
        except nats.js.errors.APIError as exc:
            raise BrokerRejected(f"JetStream error {exc.err_code}: {exc.description}") from exc
        return receipt(stream=ack.stream, seq=ack.seq, duplicate=bool(ack.duplicate))

    def _usable(self, client: NatsClient) -> bool:
        return client.is_connected and not client.is_closed

    async def _close_client(self, client: NatsClient) -> None:
        await client.close()

    async def _open(self, target: DestinationTarget) -> NatsClient:
        address = await checked_address(target.host, target.port, self._allow)
        return await nats.connect(
            servers=[f"nats://{host_for_url(address)}:{target.port}"],
            user=target.username or None,
            password=target.password,
            name="hookd",
            connect_timeout=CONNECT_TIMEOUT,
            # A cluster announces its other servers and a client reconnects to them; those
            # addresses come from the server, unchecked. The pool reconnects instead, through
            # the SSRF guard, when this connection closes.
            allow_reconnect=False,
            # nats-py retries the first connect too, and 0 here would mean forever: one
            # immediate retry, then NoServersError, so an unreachable server fails fast.
            max_reconnect_attempts=1,
            reconnect_time_wait=0,
            error_cb=_log_error,
        )


async def _log_error(exc: Exception) -> None:
    log.debug("nats connection error", error=str(exc))
