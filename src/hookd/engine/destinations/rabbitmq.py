"""RabbitMQ (AMQP 0-9-1): persistent publish with publisher confirms and mandatory routing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractConnection, DeliveryMode

from hookd.core.destinations import DestinationTarget
from hookd.engine.destinations.client import BrokerRejected, content_type, receipt, webhook_id
from hookd.engine.destinations.guard import checked_address
from hookd.engine.destinations.pooled import PooledDestination

CONNECT_TIMEOUT = 10.0


@dataclass
class _Broker:
    """One connection and a channel per exchange.

    The broker closes a channel on errors such as a missing exchange; a channel per exchange
    keeps one misconfigured endpoint from failing the publishes of every other.
    """

    connection: AbstractConnection
    channels: dict[str, AbstractChannel] = field(default_factory=dict)

    async def channel(self, exchange: str) -> AbstractChannel:
        channel = self.channels.get(exchange)
        if channel is None or channel.is_closed:
            # Confirms make publish wait for the broker to take responsibility for the message;
            # on_return_raises turns "routed to no queue" into an error instead of a drop.
            channel = await self.connection.channel(publisher_confirms=True, on_return_raises=True)
            self.channels[exchange] = channel
        return channel


class RabbitMqDestination(PooledDestination[_Broker]):
    """Publishes to a RabbitMQ exchange (or a queue through the default exchange)."""

    unreachable = (aiormq.exceptions.AMQPConnectionError,)

    async def _publish(
        self,
        client: _Broker,
        target: DestinationTarget,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float,  # noqa: ASYNC109 - the deadline is per destination
    ) -> bytes:
        exchange_name = target.option("exchange") or ""
        routing_key = target.option("routing_key") or ""
        channel = await client.channel(exchange_name)
        exchange = (
            await channel.get_exchange(exchange_name, ensure=False)
            if exchange_name
            else channel.default_exchange
        )
        message = aio_pika.Message(
            body,
            headers={k: v for k, v in headers.items() if k.lower() != "content-type"},
            content_type=content_type(headers),
            delivery_mode=DeliveryMode.PERSISTENT,
            message_id=webhook_id(headers),
            app_id="hookd",
        )
        try:
            confirmation = await exchange.publish(message, routing_key, mandatory=True)
        except aiormq.exceptions.PublishError as exc:
            raise BrokerRejected(
                f"no queue is bound for routing key {routing_key!r} "
                f"on exchange {exchange_name or '(default)'!r}"
            ) from exc
        except aiormq.exceptions.DeliveryError as exc:
            raise BrokerRejected(f"the broker did not confirm the message: {exc}") from exc
        if not isinstance(confirmation, aiormq.spec.Basic.Ack):
            raise BrokerRejected(f"the broker answered {type(confirmation).__name__}")
        return receipt(exchange=exchange_name, routing_key=routing_key, confirmed=True)

    async def _open(self, target: DestinationTarget) -> _Broker:
        address = await checked_address(target.host, target.port, self._allow)
        vhost_path = target.connection_url.rsplit("/", 1)[1]
        connection = await aio_pika.connect(
            # TLS verifies the certificate against the name, so only plain TCP is pinned.
            host=target.host if target.tls else address,
            port=target.port,
            login=target.username or "guest",
            password=target.password or "guest",
            virtualhost=unquote(vhost_path),
            ssl=target.tls,
            timeout=CONNECT_TIMEOUT,
            client_properties={"connection_name": "hookd"},
        )
        return _Broker(connection)

    def _usable(self, client: _Broker) -> bool:
        return not client.connection.is_closed

    async def _close_client(self, client: _Broker) -> None:
        await client.connection.close()
