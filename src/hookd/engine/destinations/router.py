"""Pick the destination for an endpoint URL by its scheme, loading broker clients lazily.

Each broker's client library is an optional extra (``hookd[destinations]``); a missing one
fails the attempt with an install hint instead of failing hookd's start.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

from hookd.core.delivery import AttemptResult, Failure
from hookd.core.destinations import DestinationKind, DestinationTarget, parse_destination
from hookd.core.ssrf import Network
from hookd.engine.destinations.client import BrokerClient

EXTRA = "hookd[destinations]"


def _redis(allow: tuple[Network, ...]) -> BrokerClient:
    from hookd.engine.destinations.redis_stream import RedisStreamDestination

    return RedisStreamDestination(allow)


def _amqp(allow: tuple[Network, ...]) -> BrokerClient:
    from hookd.engine.destinations.rabbitmq import RabbitMqDestination

    return RabbitMqDestination(allow)


def _nats(allow: tuple[Network, ...]) -> BrokerClient:
    from hookd.engine.destinations.nats_jetstream import NatsJetStreamDestination

    return NatsJetStreamDestination(allow)


def _kafka(allow: tuple[Network, ...]) -> BrokerClient:
    from hookd.engine.destinations.kafka_topic import KafkaDestination

    return KafkaDestination(allow)


def _sqs(allow: tuple[Network, ...]) -> BrokerClient:
    from hookd.engine.destinations.sqs_queue import SqsDestination

    return SqsDestination(allow)


FACTORIES: dict[DestinationKind, Callable[[tuple[Network, ...]], BrokerClient]] = {
    DestinationKind.REDIS: _redis,
    DestinationKind.AMQP: _amqp,
    DestinationKind.NATS: _nats,
    DestinationKind.KAFKA: _kafka,
    DestinationKind.SQS: _sqs,
}


@functools.lru_cache(maxsize=4096)
def cached_target(url: str) -> DestinationTarget:
    """:func:`parse_destination`, memoized: the worker sends to the same URLs over and over."""
    return parse_destination(url)


class BrokerDestinations:
    """Every broker destination behind one :class:`BrokerClient`, dispatched by target kind;
    ``relay`` (``relay://`` endpoints: ``hookd listen``'s listeners) is given by the runtime,
    which holds this process's relay hub."""

    def __init__(self, allow: tuple[Network, ...], relay: BrokerClient | None = None) -> None:
        self._allow = allow
        self._destinations: dict[DestinationKind, BrokerClient] = {}
        if relay is not None:
            self._destinations[DestinationKind.RELAY] = relay

    async def start(self) -> None:
        """Nothing to do: each broker's client library loads on its first send."""

    async def close(self) -> None:
        destinations, self._destinations = list(self._destinations.values()), {}
        for destination in destinations:
            await destination.close()

    async def send(
        self,
        target: DestinationTarget,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float,  # noqa: ASYNC109 - the deadline is per destination
    ) -> AttemptResult:
        destination = self._destinations.get(target.kind)
        if destination is None and target.kind is DestinationKind.RELAY:
            return AttemptResult.no_response(
                "no listener can connect to this process (relays need the API)",
                failure=Failure.CONNECTION,
            )
        if destination is None:
            try:
                destination = FACTORIES[target.kind](self._allow)
            except ModuleNotFoundError as exc:
                return AttemptResult.no_response(
                    f"install {EXTRA} for {target.kind.value}:// endpoints ({exc.name} is missing)",
                    failure=Failure.ERROR,
                )
            await destination.start()
            self._destinations[target.kind] = destination
        return await destination.send(target, headers, body, timeout)

    async def send_to_url(
        self,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float,  # noqa: ASYNC109 - the deadline is per destination
    ) -> AttemptResult:
        """Parse ``url`` and send; a URL that does not parse fails the attempt, saying why."""
        try:
            target = cached_target(url)
        except ValueError as exc:
            return AttemptResult.no_response(
                f"invalid destination URL: {exc}", failure=Failure.ERROR
            )
        return await self.send(target, headers, body, timeout)
