"""Kafka destination against a real Kafka-compatible broker (Tansu) that the fixture starts."""

from __future__ import annotations

import orjson
import pytest
import standardwebhooks
from aiokafka import AIOKafkaConsumer  # type: ignore[import-untyped]

from hookd.engine.destinations import BrokerDestinations
from tests.integration.destinations.conftest import SECRET, signed_webhook, unique

pytestmark = pytest.mark.services


async def _consume(bootstrap: str, topic: str, count: int) -> list[object]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    try:
        records: list[object] = []
        for _ in range(50):
            batches = await consumer.getmany(timeout_ms=200)
            records.extend(record for batch in batches.values() for record in batch)
            if len(records) >= count:
                return records
        raise AssertionError(f"expected {count} records, got {len(records)}")
    finally:
        await consumer.stop()


async def test_produce_keyed_by_webhook_id_with_headers(
    destinations: BrokerDestinations, kafka_bootstrap: str
) -> None:
    topic = unique("hookd-test")
    headers, body = signed_webhook()

    result = await destinations.send_to_url(
        f"kafka://{kafka_bootstrap}?topic={topic}", headers, body, 10
    )

    assert result.succeeded, result.error
    assert orjson.loads(result.body)["topic"] == topic
    [record] = await _consume(kafka_bootstrap, topic, 1)
    assert record.value == body  # type: ignore[attr-defined]
    assert record.key == headers["webhook-id"].encode()  # type: ignore[attr-defined]
    received = {k: v.decode() for k, v in record.headers}  # type: ignore[attr-defined]
    assert received == headers
    standardwebhooks.Webhook(SECRET).verify(record.value, received)  # type: ignore[attr-defined]


async def test_fixed_key_from_url(destinations: BrokerDestinations, kafka_bootstrap: str) -> None:
    topic = unique("hookd-test")
    url = f"kafka://{kafka_bootstrap}?topic={topic}&key=ep_orders"
    for _ in range(2):
        headers, body = signed_webhook()
        assert (await destinations.send_to_url(url, headers, body, 10)).succeeded

    records = await _consume(kafka_bootstrap, topic, 2)
    assert {r.key for r in records} == {b"ep_orders"}  # type: ignore[attr-defined]
