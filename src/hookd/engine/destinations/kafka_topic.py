"""Kafka: produce with ``acks=all``, keyed by the webhook id (or a fixed key from the URL)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]
from aiokafka.errors import KafkaConnectionError  # type: ignore[import-untyped]

from hookd.core.delivery import AttemptResult
from hookd.core.destinations import DestinationTarget
from hookd.core.ssrf import Network
from hookd.engine.destinations.destination import publish_attempt, receipt, webhook_id
from hookd.engine.destinations.guard import checked_address, host_for_url
from hookd.engine.destinations.pool import ClientPool

REQUEST_TIMEOUT_MS = 30_000


@dataclass
class _Producer:
    producer: Any  # AIOKafkaProducer ships no type hints
    checked_brokers: set[tuple[str, int]] = field(default_factory=set)


class KafkaDestination:
    """Produces to Kafka topics, one producer per bootstrap broker."""

    def __init__(self, allow: tuple[Network, ...]) -> None:
        self._allow = allow
        self._pool: ClientPool[_Producer] = ClientPool(_close, lambda _producer: True)

    async def start(self) -> None:
        """Nothing to do: producers start on the first send to each cluster."""

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
            entry = await self._pool.get(target.connection_url, lambda: self._open(target))
            topic = target.resource
            # Fetch the topic's metadata first so every broker the producer may connect to
            # (the cluster advertises them, the user does not) passes the SSRF guard.
            await entry.producer.partitions_for(topic)
            await self._check_brokers(entry)
            key = target.option("key") or webhook_id(headers)
            metadata = await entry.producer.send_and_wait(
                topic,
                body,
                key=key.encode() if key else None,
                headers=[(name, value.encode()) for name, value in headers.items()],
            )
            return receipt(topic=topic, partition=metadata.partition, offset=metadata.offset)

        return await publish_attempt(target, timeout, publish, (KafkaConnectionError,))

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


async def _close(entry: _Producer) -> None:
    await entry.producer.stop()
