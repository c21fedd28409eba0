"""Redis Streams destination against the real Redis on 127.0.0.1:6379."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
import redis.asyncio as redis
import standardwebhooks

from hookd.engine.destinations import BrokerDestinations
from tests.integration.destinations.conftest import SECRET, signed_webhook, unique
from tests.support import require_service

pytestmark = pytest.mark.services


@pytest.fixture
async def stream() -> AsyncIterator[tuple[redis.Redis, str]]:
    require_service("redis", "127.0.0.1", 6379)
    client = redis.Redis(host="127.0.0.1", port=6379, db=0)
    name = unique("hookd-test-stream")
    yield client, name
    await client.delete(name)
    await client.aclose()


async def test_xadd_carries_body_and_headers(
    destinations: BrokerDestinations, stream: tuple[redis.Redis, str]
) -> None:
    client, name = stream
    headers, body = signed_webhook()

    result = await destinations.send_to_url(
        f"redis://127.0.0.1:6379/0?stream={name}", headers, body, 5
    )

    assert result.succeeded, result.error
    entries: Any = await client.xrange(name)  # redis-py types the sync and async answers as one
    assert len(entries) == 1
    entry_id, fields = entries[0]
    assert orjson.loads(result.body) == {"stream": name, "id": entry_id.decode()}
    assert fields[b"body"] == body
    received = orjson.loads(fields[b"headers"])
    assert received == headers
    standardwebhooks.Webhook(SECRET).verify(fields[b"body"], received)


async def test_maxlen_trims_the_stream_approximately(
    destinations: BrokerDestinations, stream: tuple[redis.Redis, str]
) -> None:
    client, name = stream
    url = f"redis://127.0.0.1:6379/0?stream={name}&maxlen=5"
    for _ in range(300):
        headers, body = signed_webhook()
        assert (await destinations.send_to_url(url, headers, body, 5)).succeeded
    # "~" trims whole radix-tree nodes (100 entries by default), never below the cap.
    assert 5 <= await client.xlen(name) < 300


async def test_wrong_key_type_is_a_clean_error(
    destinations: BrokerDestinations, stream: tuple[redis.Redis, str]
) -> None:
    client, name = stream
    await client.set(name, "not a stream")
    headers, body = signed_webhook()

    result = await destinations.send_to_url(f"redis://127.0.0.1/0?stream={name}", headers, body, 5)

    assert not result.succeeded
    assert result.error is not None and "WRONGTYPE" in result.error
