"""NATS JetStream destination against the real server on 127.0.0.1:4222."""

from __future__ import annotations

from collections.abc import AsyncIterator

import nats
import orjson
import pytest
import standardwebhooks
from nats.js import JetStreamContext

from hookd.engine.destinations import BrokerDestinations
from tests.integration.destinations.conftest import SECRET, signed_webhook, unique
from tests.support import require_service

pytestmark = pytest.mark.services


@pytest.fixture
async def jetstream() -> AsyncIterator[tuple[JetStreamContext, str, str]]:
    """A fresh stream capturing one subject."""
    require_service("nats", "127.0.0.1", 4222)
    client = await nats.connect("nats://127.0.0.1:4222")
    js = client.jetstream()
    stream = unique("HOOKD_TEST").replace("-", "_")
    subject = f"hookd.test.{unique('s')}"
    await js.add_stream(name=stream, subjects=[subject])
    yield js, stream, subject
    await js.delete_stream(stream)
    await client.close()


async def test_publish_is_acknowledged_and_stored_with_headers(
    destinations: BrokerDestinations, jetstream: tuple[JetStreamContext, str, str]
) -> None:
    js, stream, subject = jetstream
    headers, body = signed_webhook()

    result = await destinations.send_to_url(
        f"nats://127.0.0.1:4222?subject={subject}&stream={stream}", headers, body, 5
    )

    assert result.succeeded, result.error
    assert orjson.loads(result.body) == {"stream": stream, "seq": 1, "duplicate": False}
    stored = await js.get_msg(stream, 1)
    assert stored.data == body
    assert stored.headers is not None
    assert stored.headers["Nats-Msg-Id"] == headers["webhook-id"]
    for name, value in headers.items():
        assert stored.headers[name] == value
    received = {k: v for k, v in stored.headers.items() if k in headers}
    standardwebhooks.Webhook(SECRET).verify(stored.data, received)


async def test_retry_with_same_webhook_id_is_deduplicated(
    destinations: BrokerDestinations, jetstream: tuple[JetStreamContext, str, str]
) -> None:
    js, stream, subject = jetstream
    headers, body = signed_webhook()
    url = f"nats://127.0.0.1:4222?subject={subject}"

    first = await destinations.send_to_url(url, headers, body, 5)
    second = await destinations.send_to_url(url, headers, body, 5)

    assert first.succeeded and second.succeeded
    assert orjson.loads(second.body)["duplicate"] is True
    info = await js.stream_info(stream)
    assert info.state.messages == 1


async def test_subject_without_stream_fails(
    destinations: BrokerDestinations,
) -> None:
    require_service("nats", "127.0.0.1", 4222)
    headers, body = signed_webhook()

    result = await destinations.send_to_url(
        f"nats://127.0.0.1:4222?subject=hookd.nostream.{unique('s')}", headers, body, 5
    )

    assert result.error is not None and "no JetStream stream captures" in result.error


async def test_expected_stream_mismatch_fails(
    destinations: BrokerDestinations, jetstream: tuple[JetStreamContext, str, str]
) -> None:
    _, _, subject = jetstream
    headers, body = signed_webhook()

    result = await destinations.send_to_url(
        f"nats://127.0.0.1:4222?subject={subject}&stream=OTHER", headers, body, 5
    )

    assert result.error is not None and "rejected the message" in result.error
