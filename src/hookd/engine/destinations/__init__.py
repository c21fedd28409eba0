"""Broker destinations: publish webhooks to Redis Streams, RabbitMQ, NATS, Kafka and SQS.

The worker sends to an endpoint whose URL is a broker URL (see
:func:`hookd.core.destinations.is_destination_url`) through :class:`BrokerDestinations`, and
gets the same :class:`~hookd.core.delivery.AttemptResult` as from the HTTP sender. Broker
client libraries load lazily, so nothing here is imported unless such an endpoint exists.
"""

from hookd.engine.destinations.client import BrokerClient
from hookd.engine.destinations.router import BrokerDestinations

__all__ = ["BrokerClient", "BrokerDestinations"]
