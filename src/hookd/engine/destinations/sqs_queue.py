"""Amazon SQS: ``SendMessage`` with the Standard Webhooks headers as message attributes.

SQS allows 10 message attributes, so each ``webhook-*`` (or ``svix-*``) header becomes an
attribute and every other header goes, JSON-encoded, into one ``headers`` attribute.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import orjson
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError, EndpointConnectionError

from hookd.core.destinations import DestinationTarget
from hookd.core.ssrf import Network
from hookd.engine.destinations.client import (
    WEBHOOK_HEADER_PREFIXES,
    BrokerRejected,
    receipt,
    webhook_id,
)
from hookd.engine.destinations.guard import checked_address, host_for_url
from hookd.engine.destinations.pooled import PooledDestination

if TYPE_CHECKING:
    from types_aiobotocore_sqs.client import SQSClient
    from types_aiobotocore_sqs.type_defs import MessageAttributeValueTypeDef

MAX_ATTRIBUTES = 10
HEADERS_ATTRIBUTE = "headers"
# SQS attribute names: letters, digits, '_', '-', '.'; no "AWS."/"Amazon." prefix.
_ATTRIBUTE_NAME = re.compile(
    r"(?!(?i:aws\.|amazon\.))[A-Za-z0-9_\-]([A-Za-z0-9_\-]|\.(?!\.)){0,255}"
)
CLIENT_CONFIG = AioConfig(
    connect_timeout=10,
    read_timeout=30,
    # hookd retries the delivery on its own schedule; botocore's retries would only hide an
    # unreachable endpoint behind backoff.
    retries={"total_max_attempts": 1, "mode": "standard"},
)


@dataclass
class _Sqs:
    client: SQSClient
    stack: contextlib.AsyncExitStack
    queue_urls: dict[tuple[str, str | None], str] = field(default_factory=dict)


class SqsDestination(PooledDestination[_Sqs]):
    """Sends to SQS queues, one client per endpoint, credentials and region."""

    unreachable = (EndpointConnectionError,)

    def __init__(self, allow: tuple[Network, ...]) -> None:
        super().__init__(allow)
        self._session = get_session()

    def _client_key(self, target: DestinationTarget) -> str:
        return f"{target.connection_url}?region={target.option('region') or ''}"

    async def _publish(
        self,
        client: _Sqs,
        target: DestinationTarget,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float,  # noqa: ASYNC109 - the deadline is per destination
    ) -> bytes:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BrokerRejected("SQS message bodies must be UTF-8 text") from exc
        queue_url = await _queue_url(client, target.resource, target.option("account"))
        msg_id = webhook_id(headers)
        fifo: dict[str, str] = {}
        if target.resource.endswith(".fifo") and msg_id is not None:
            # FIFO queues need a group and drop a repeated deduplication id for 5 minutes.
            fifo = {
                "MessageGroupId": target.option("group") or msg_id,
                "MessageDeduplicationId": msg_id,
            }
        try:
            sent = await client.client.send_message(
                QueueUrl=queue_url,
                MessageBody=text,
                MessageAttributes=message_attributes(headers),
                **fifo,  # type: ignore[arg-type]
            )
        except ClientError as exc:
            raise BrokerRejected(_client_error(exc)) from exc
        return receipt(
            queue=target.resource,
            message_id=sent.get("MessageId"),
            sequence_number=sent.get("SequenceNumber"),
        )

    async def _close_client(self, client: _Sqs) -> None:
        await client.stack.aclose()

    async def _open(self, target: DestinationTarget) -> _Sqs:
        address = await checked_address(target.host, target.port, self._allow)
        # HTTPS verifies the certificate against the name, so only plain HTTP is pinned.
        host = target.host if target.tls else address
        scheme = "https" if target.tls else "http"
        stack = contextlib.AsyncExitStack()
        client = await stack.enter_async_context(
            self._session.create_client(
                "sqs",
                region_name=target.option("region"),
                endpoint_url=f"{scheme}://{host_for_url(host)}:{target.port}",
                # None falls back to botocore's chain: AWS_ACCESS_KEY_ID and friends first.
                aws_access_key_id=target.username,
                aws_secret_access_key=target.password,
                config=CLIENT_CONFIG,
            )
        )
        return _Sqs(client, stack)


def message_attributes(headers: Mapping[str, str]) -> dict[str, MessageAttributeValueTypeDef]:
    """Webhook headers as attributes, the rest as one JSON attribute: at most 10 in all."""
    attributes: dict[str, MessageAttributeValueTypeDef] = {}
    rest: dict[str, str] = {}
    for name, value in headers.items():
        is_webhook = name.lower().startswith(WEBHOOK_HEADER_PREFIXES)
        if (
            is_webhook
            and value
            and _ATTRIBUTE_NAME.fullmatch(name)
            and name != HEADERS_ATTRIBUTE
            and len(attributes) < MAX_ATTRIBUTES - 1
        ):
            attributes[name] = {"DataType": "String", "StringValue": value}
        else:
            rest[name] = value
    if rest:
        attributes[HEADERS_ATTRIBUTE] = {
            "DataType": "String",
            "StringValue": orjson.dumps(rest).decode(),
        }
    return attributes


async def _queue_url(sqs: _Sqs, queue: str, account: str | None) -> str:
    cached = sqs.queue_urls.get((queue, account))
    if cached is not None:
        return cached
    try:
        if account is None:
            found = await sqs.client.get_queue_url(QueueName=queue)
        else:
            found = await sqs.client.get_queue_url(QueueName=queue, QueueOwnerAWSAccountId=account)
    except ClientError as exc:
        raise BrokerRejected(_client_error(exc)) from exc
    sqs.queue_urls[(queue, account)] = found["QueueUrl"]
    return found["QueueUrl"]


def _client_error(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return f"{error.get('Code', 'error')}: {error.get('Message', str(exc))}"
