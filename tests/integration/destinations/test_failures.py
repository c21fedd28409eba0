"""Every broker kind fails cleanly: unreachable, refused by the SSRF guard, too slow, missing."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import pytest

from hookd.core.delivery import AttemptResult
from hookd.core.destinations import parse_destination
from hookd.engine.destinations import BrokerDestinations
from tests.integration.destinations.conftest import ALLOW, closed_port, signed_webhook

URLS = {
    "redis": "redis://{host}:{port}/0?stream=hooks",
    "amqp": "amqp://guest:guest@{host}:{port}/?queue=hooks",
    "nats": "nats://{host}:{port}?subject=hooks",
    "kafka": "kafka://{host}:{port}?topic=hooks",
    "sqs": "sqs://key:secret@{host}:{port}/hooks?region=us-east-1",
}
KINDS = sorted(URLS)


async def _send(destinations: BrokerDestinations, url: str, timeout: float) -> AttemptResult:
    headers, body = signed_webhook()
    return await destinations.send(parse_destination(url), headers, body, timeout)


@pytest.mark.parametrize("kind", KINDS)
async def test_unreachable_broker_is_a_failed_attempt(
    destinations: BrokerDestinations, kind: str
) -> None:
    url = URLS[kind].format(host="127.0.0.1", port=closed_port())

    result = await _send(destinations, url, 5)

    assert result.status_code == 0
    assert not result.succeeded
    assert result.error is not None
    assert "timed out" not in result.error, "a refused connection must fail fast"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("host", ["10.0.0.7", "169.254.169.254", "[::1]"])
async def test_non_global_host_is_refused(
    destinations: BrokerDestinations, kind: str, host: str
) -> None:
    result = await _send(destinations, URLS[kind].format(host=host, port=1234), 5)

    assert result.error is not None
    assert result.error.startswith("destination refused"), result.error


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A TCP server that accepts connections and never says a word."""
    writers: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in writers:
        writer.close()
    server.close()


@pytest.mark.parametrize("kind", KINDS)
async def test_publish_obeys_the_timeout(
    destinations: BrokerDestinations, kind: str, silent_server: int
) -> None:
    url = URLS[kind].format(host="127.0.0.1", port=silent_server)
    loop = asyncio.get_running_loop()
    started = loop.time()

    result = await _send(destinations, url, 0.5)

    assert result.error is not None
    assert "timed out after 0.5 s" in result.error
    assert loop.time() - started < 3


async def test_missing_client_library_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    # What an install without hookd[destinations] sees: the library cannot be imported.
    monkeypatch.setitem(sys.modules, "aio_pika", None)
    monkeypatch.delitem(sys.modules, "hookd.engine.destinations.rabbitmq", raising=False)
    destinations = BrokerDestinations(ALLOW)

    result = await _send(destinations, URLS["amqp"].format(host="127.0.0.1", port=5672), 5)

    assert result.error == "install hookd[destinations] for amqp:// endpoints (aio_pika is missing)"
    await destinations.close()


async def test_invalid_url_is_a_failed_attempt(destinations: BrokerDestinations) -> None:
    headers, body = signed_webhook()

    result = await destinations.send_to_url("redis://127.0.0.1:6379/0", headers, body, 5)

    assert result.error == "invalid destination URL: redis:// URL needs ?stream=..."
