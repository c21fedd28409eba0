"""RabbitMQ destination against the real broker on 127.0.0.1:5672."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aio_pika
import orjson
import pytest
import standardwebhooks
from aio_pika.abc import AbstractChannel, DeliveryMode

from hookd.engine.destinations import BrokerDestinations
from tests.integration.destinations.conftest import SECRET, signed_webhook, unique
from tests.support import require_service

pytestmark = pytest.mark.services

BROKER = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture
async def channel() -> AsyncIterator[AbstractChannel]:
    require_service("rabbitmq", "127.0.0.1", 5672)
    connection = await aio_pika.connect(BROKER)
    yield await connection.channel()
    await connection.close()


async def _received(queue: aio_pika.abc.AbstractQueue) -> aio_pika.abc.AbstractIncomingMessage:
    message = await queue.get(timeout=5, fail=True)
    assert message is not None
    await message.ack()
    return message


async def test_publish_to_queue_through_default_exchange(
    destinations: BrokerDestinations, channel: AbstractChannel
) -> None:
    queue = await channel.declare_queue(unique("hookd-test"), auto_delete=True)
    headers, body = signed_webhook()

    result = await destinations.send_to_url(f"{BROKER}?queue={queue.name}", headers, body, 5)

    assert result.succeeded, result.error
    assert orjson.loads(result.body)["confirmed"] is True
    message = await _received(queue)
    assert message.body == body
    assert message.message_id == headers["webhook-id"]
    assert message.content_type == "application/json"
    assert message.delivery_mode == DeliveryMode.PERSISTENT
    received = {k: str(v) for k, v in message.headers.items()}
    assert received == {k: v for k, v in headers.items() if k != "Content-Type"}
    standardwebhooks.Webhook(SECRET).verify(message.body, received)


async def test_publish_to_exchange_with_routing_key(
    destinations: BrokerDestinations, channel: AbstractChannel
) -> None:
    exchange = await channel.declare_exchange(
        unique("hookd-test-x"), aio_pika.ExchangeType.TOPIC, auto_delete=True
    )
    queue = await channel.declare_queue(unique("hookd-test"), auto_delete=True)
    await queue.bind(exchange, "invoices.*")
    headers, body = signed_webhook()
    url = f"{BROKER}?exchange={exchange.name}&routing_key=invoices.paid"

    result = await destinations.send_to_url(url, headers, body, 5)

    assert result.succeeded, result.error
    message = await _received(queue)
    assert message.body == body
    assert message.routing_key == "invoices.paid"


async def test_unroutable_message_fails_instead_of_vanishing(
    destinations: BrokerDestinations, channel: AbstractChannel
) -> None:
    exchange = await channel.declare_exchange(unique("hookd-test-x"), auto_delete=True)
    headers, body = signed_webhook()
    url = f"{BROKER}?exchange={exchange.name}&routing_key=nobody"

    result = await destinations.send_to_url(url, headers, body, 5)

    assert not result.succeeded
    assert result.error is not None and "no queue is bound" in result.error


async def test_missing_exchange_fails_and_other_endpoints_keep_working(
    destinations: BrokerDestinations, channel: AbstractChannel
) -> None:
    queue = await channel.declare_queue(unique("hookd-test"), auto_delete=True)
    headers, body = signed_webhook()

    missing = await destinations.send_to_url(
        f"{BROKER}?exchange={unique('missing')}&routing_key=k", headers, body, 5
    )
    working = await destinations.send_to_url(f"{BROKER}?queue={queue.name}", headers, body, 5)
    again = await destinations.send_to_url(
        f"{BROKER}?exchange={unique('missing')}&routing_key=k", headers, body, 5
    )

    assert missing.error is not None and "NOT_FOUND" in missing.error
    assert again.error is not None and "NOT_FOUND" in again.error
    assert working.succeeded, working.error
    assert (await _received(queue)).body == body


async def test_wrong_password_is_reported_without_the_password(
    destinations: BrokerDestinations,
) -> None:
    require_service("rabbitmq", "127.0.0.1", 5672)
    headers, body = signed_webhook()

    result = await destinations.send_to_url(
        "amqp://guest:s3cret-pw@127.0.0.1:5672/?queue=q", headers, body, 5
    )

    assert result.error is not None
    assert "s3cret-pw" not in result.error
