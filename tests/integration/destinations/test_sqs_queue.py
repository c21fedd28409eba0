"""SQS destination against moto in server mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
import standardwebhooks
from aiobotocore.session import get_session

from hookd.engine.destinations import BrokerDestinations
from tests.integration.destinations.conftest import SECRET, signed_webhook, unique

pytestmark = pytest.mark.services

CREDENTIALS = "testing:testing-secret"


@pytest.fixture
async def sqs(sqs_endpoint: str) -> AsyncIterator[Any]:
    session = get_session()
    async with session.create_client(
        "sqs",
        region_name="us-east-1",
        endpoint_url=f"http://{sqs_endpoint}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing-secret",
    ) as client:
        yield client


async def _receive(sqs: Any, queue_url: str) -> dict[str, Any]:
    answer = await sqs.receive_message(
        QueueUrl=queue_url, MessageAttributeNames=["All"], WaitTimeSeconds=1
    )
    [message] = answer["Messages"]
    return dict(message)


async def test_send_message_with_webhook_attributes(
    destinations: BrokerDestinations, sqs: Any, sqs_endpoint: str
) -> None:
    name = unique("hookd-test")
    queue_url = (await sqs.create_queue(QueueName=name))["QueueUrl"]
    headers, body = signed_webhook()

    result = await destinations.send_to_url(
        f"sqs://{CREDENTIALS}@{sqs_endpoint}/{name}?region=us-east-1", headers, body, 5
    )

    assert result.succeeded, result.error
    message = await _receive(sqs, queue_url)
    assert message["MessageId"] == orjson.loads(result.body)["message_id"]
    assert message["Body"].encode() == body
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert set(attributes) == {"webhook-id", "webhook-timestamp", "webhook-signature", "headers"}
    assert orjson.loads(attributes.pop("headers")) == {
        "X-Tenant": "acme",
        "Content-Type": "application/json",
    }
    assert attributes["webhook-id"] == headers["webhook-id"]
    standardwebhooks.Webhook(SECRET).verify(message["Body"].encode(), attributes)


async def test_fifo_queue_deduplicates_by_webhook_id(
    destinations: BrokerDestinations, sqs: Any, sqs_endpoint: str
) -> None:
    name = unique("hookd-test") + ".fifo"
    queue_url = (await sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"}))[
        "QueueUrl"
    ]
    headers, body = signed_webhook()
    url = f"sqs://{CREDENTIALS}@{sqs_endpoint}/{name}?region=us-east-1&group=orders"

    first = await destinations.send_to_url(url, headers, body, 5)
    second = await destinations.send_to_url(url, headers, body, 5)

    assert first.succeeded and second.succeeded
    attributes = await sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "1"
    message = await _receive(sqs, queue_url)
    assert message["Body"].encode() == body


async def test_credentials_from_environment(
    destinations: BrokerDestinations,
    sqs: Any,
    sqs_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-env")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-env-secret")
    name = unique("hookd-test")
    queue_url = (await sqs.create_queue(QueueName=name))["QueueUrl"]
    headers, body = signed_webhook()

    result = await destinations.send_to_url(
        f"sqs://{sqs_endpoint}/{name}?region=us-east-1", headers, body, 5
    )

    assert result.succeeded, result.error
    assert (await _receive(sqs, queue_url))["Body"].encode() == body


async def test_missing_queue_fails(destinations: BrokerDestinations, sqs_endpoint: str) -> None:
    headers, body = signed_webhook()

    result = await destinations.send_to_url(
        f"sqs://{CREDENTIALS}@{sqs_endpoint}/{unique('missing')}?region=us-east-1",
        headers,
        body,
        5,
    )

    assert result.error is not None and "rejected the message" in result.error
    assert "testing-secret" not in result.error
