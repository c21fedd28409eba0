"""Kafka: produce with ``acks=all``, keyed by the webhook id (or a fixed key from the URL)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]
from aiokafka.errors import KafkaConnectionError  # type: ignore[import-untyped]

from hookd.core.destinations import DestinationTarget
from hookd.engine.destinations.client import receipt, webhook_id
from hookd.engine.destinations.guard import checked_address, host_for_url
from hookd.engine.destinations.pooled import PooledDestination

REQUEST_TIMEOUT_MS = 30_000


@dataclass
class _Producer:
    producer: Any  # AIOKafkaProducer ships no type hints
    checked_brokers: set[tuple[str, int]] = field(default_factory=set)


class KafkaDestination(PooledDestination[_Producer]):
    """Produces to Kafka topics, one producer per bootstrap broker."""

    unreachable = (KafkaConnectionError,)

    async def _publish(
        self,
        client: _Producer,
        target: DestinationTarget,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float,  # noqa: ASYNC109 - the deadline is per destination
    ) -> bytes:
        topic = target.resource
        # Fetch the topic's metadata first so every broker the producer may connect to
        # (the cluster advertises them, the user does not) passes the SSRF guard.
        await client.producer.partitions_for(topic)
        await self._check_brokers(client)
        key = target.option("key") or webhook_id(headers)
        metadata = await client.producer.send_and_wait(
            topic,
            body,
            key=key.encode() if key else None,
            headers=[(name, value.encode()) for name, value in headers.items()],
        )
        return receipt(topic=topic, partition=metadata.partition, offset=metadata.offset)

    async def _open(self, target: DestinationTarget) -> _Producer:
        address = await checked_address(target.host, target.port, self._allow)
        producer = AIOKafkaProducer(
            bootstrap_servers=f"{host_for_url(address)}:{target.port}",
            client_id="hookd",
            acks="all",  # the leader waits for every in-sync replica before acknowledging
            request_timeout_ms=REQUEST_TIMEOUT_MS,
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        entry = _Producer(producer, {(address, target.port)})
        try:
            await self._check_brokers(entry)
        except BaseException:
            await producer.stop()
            raise
        return entry

    async def _check_brokers(self, entry: _Producer) -> None:
        for broker in entry.producer.client.cluster.brokers():
            endpoint = (str(broker.host), int(broker.port))
            if endpoint not in entry.checked_brokers:
                await checked_address(endpoint[0], endpoint[1], self._allow)
                entry.checked_brokers.add(endpoint)

    async def _close_client(self, client: _Producer) -> None:
        await client.producer.stop()
