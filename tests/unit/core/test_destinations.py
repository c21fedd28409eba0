"""Broker endpoint URLs: what parses, into what, and the message for what does not."""

from __future__ import annotations

import contextlib
import re
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookd.core.destinations import (
    DestinationKind,
    is_destination_url,
    parse_destination,
)


def test_redis_stream_url() -> None:
    target = parse_destination("redis://:pw@cache.internal:6380/2?stream=hooks&maxlen=1000")
    assert target.kind is DestinationKind.REDIS
    assert target.connection_url == "redis://:pw@cache.internal:6380/2"
    assert target.display_url == "redis://:***@cache.internal:6380/2"
    assert (target.host, target.port, target.tls) == ("cache.internal", 6380, False)
    assert target.resource == "hooks"
    assert target.option("maxlen") == "1000"
    assert target.password == "pw"


def test_redis_defaults_and_tls() -> None:
    target = parse_destination("rediss://cache?stream=s")
    assert target.connection_url == "rediss://cache:6379/0"
    assert target.tls is True
    assert target.option("maxlen") is None


def test_amqp_exchange_url() -> None:
    target = parse_destination(
        "amqp://app:p%40ss@mq:5672/prod?exchange=events&routing_key=invoice.paid"
    )
    assert target.kind is DestinationKind.AMQP
    assert target.connection_url == "amqp://app:p%40ss@mq:5672/prod"
    assert target.display_url == "amqp://app:***@mq:5672/prod"
    assert (target.username, target.password) == ("app", "p@ss")
    assert target.resource == "events"
    assert target.option("exchange") == "events"
    assert target.option("routing_key") == "invoice.paid"


@pytest.mark.parametrize("path", ["", "/"])
def test_amqp_queue_url_uses_default_exchange_and_vhost(path: str) -> None:
    target = parse_destination(f"amqp://guest:guest@127.0.0.1:5672{path}?queue=webhooks")
    assert target.connection_url == "amqp://guest:guest@127.0.0.1:5672/%2F"
    assert target.resource == "webhooks"
    assert target.option("exchange") == ""
    assert target.option("routing_key") == "webhooks"


def test_nats_url() -> None:
    target = parse_destination("nats://127.0.0.1?subject=hooks.orders&stream=HOOKS")
    assert target.kind is DestinationKind.NATS
    assert target.connection_url == "nats://127.0.0.1:4222"
    assert target.resource == "hooks.orders"
    assert target.option("stream") == "HOOKS"


def test_kafka_url_with_ipv6_host() -> None:
    target = parse_destination("kafka://[2001:db8::1]:19092?topic=webhooks.v1&key=ep_1")
    assert target.kind is DestinationKind.KAFKA
    assert target.host == "2001:db8::1"
    assert target.connection_url == "kafka://[2001:db8::1]:19092"
    assert target.resource == "webhooks.v1"
    assert target.option("key") == "ep_1"


def test_sqs_urls() -> None:
    local = parse_destination("sqs://AKID:s%2Fecret@127.0.0.1:4566/hooks?region=eu-west-1")
    assert local.kind is DestinationKind.SQS
    assert (local.tls, local.port) == (False, 4566)
    assert (local.username, local.password) == ("AKID", "s/ecret")
    assert local.resource == "hooks"
    assert local.option("region") == "eu-west-1"
    assert local.option("account") is None

    aws = parse_destination(
        "sqs+https://sqs.us-east-1.amazonaws.com/123456789012/orders.fifo?group=tenant-1"
    )
    assert (aws.tls, aws.port, aws.username) == (True, 443, None)
    assert aws.resource == "orders.fifo"
    assert aws.option("account") == "123456789012"
    assert aws.option("group") == "tenant-1"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://host/x", "URL scheme must be one of"),
        ("redis:///0?stream=s", "has no host"),
        ("redis://h:0/0?stream=s", "port must be between"),
        ("redis://h:99999/0?stream=s", "URL is malformed"),
        ("redis://h/0?stream=s#frag", "fragment"),
        ("redis://h/0 ?stream=s", "whitespace"),
        ("redis://h/0", "needs ?stream="),
        ("redis://h/zero?stream=s", "database must be a number"),
        ("redis://h/0?stream=s&maxlen=-1", "positive integer"),
        ("redis://h/0?stream=s&maxlen=0", "positive integer"),
        ("redis://h/0?stream=s&stream=t", "more than once"),
        ("redis://h/0?stream=", "is empty"),
        ("redis://h/0?stream=s&topic=t", "unknown option 'topic'"),
        ("amqp://h/", "either ?exchange="),
        ("amqp://h/?exchange=x&queue=q", "not both"),
        ("amqp://h/?queue=q&routing_key=k", "routing_key goes with exchange"),
        ("amqp://h/?exchange=bad%20name", "not a valid AMQP exchange"),
        ("amqp://h/?exchange=bad/name", "not a valid AMQP exchange"),
        ("amqp://h/?queue=" + "q" * 256, "not a valid AMQP queue"),
        ("nats://h?subject=a.*", "not a publishable NATS subject"),
        ("nats://h?subject=a..b", "not a publishable NATS subject"),
        ("nats://h?subject=a&stream=S.1", "not a valid JetStream stream"),
        ("nats://h/path?subject=a", "takes no path"),
        ("kafka://h", "needs ?topic="),
        ("kafka://h?topic=bad/topic", "not a valid Kafka topic"),
        ("kafka://h?topic=..", "not a valid Kafka topic"),
        ("kafka://u:p@h?topic=t", "do not take credentials"),
        ("sqs://h/", "path must be"),
        ("sqs://h/a/b/c", "path must be"),
        ("sqs://h/123/q", "not an AWS account id"),
        ("sqs://h/bad.name", "not a valid SQS queue name"),
        ("sqs://h/q?region=Mars", "not an AWS region"),
        ("sqs://h/q?group=g", "only for FIFO queues"),
        ("sqs://onlykey@h/q", "need both access key id and secret"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_destination(url)


def test_is_destination_url() -> None:
    assert is_destination_url("amqp://h/?queue=q")
    assert is_destination_url("SQS+HTTPS://h/q")
    assert not is_destination_url("https://example.com/hook")
    assert not is_destination_url("redis")


_NAME = st.from_regex(r"[A-Za-z0-9_\-]{1,40}", fullmatch=True)


@given(stream=_NAME, db=st.integers(0, 15), port=st.integers(1, 65535))
def test_redis_parts_survive_parsing(stream: str, db: int, port: int) -> None:
    target = parse_destination(f"redis://broker:{port}/{db}?stream={stream}")
    assert target.resource == stream
    assert target.connection_url == f"redis://broker:{port}/{db}"


@given(user=st.text(min_size=1, max_size=20), password=st.text(min_size=1, max_size=20))
def test_credentials_round_trip_and_never_show(user: str, password: str) -> None:
    url = f"amqp://{quote(user, safe='')}:{quote(password, safe='')}@mq/?queue=q"
    target = parse_destination(url)
    assert (target.username, target.password) == (user, password)
    assert parse_destination(target.connection_url + "?queue=q").password == password
    assert quote(password, safe="") not in target.display_url.split("@")[0].split(":", 2)[2]


@given(st.text(max_size=200))
def test_any_text_parses_or_raises_value_error(text: str) -> None:
    for url in (text, f"redis://{text}", f"sqs://h/{text}", f"nats://h?subject={text}"):
        with contextlib.suppress(ValueError):
            parse_destination(url)


def test_relay_url_names_a_relay_as_written() -> None:
    target = parse_destination("relay://src_0ESFT6XAxG2kXm9IdcZB0NZRaqx")
    assert target.kind is DestinationKind.RELAY
    assert target.resource == "src_0ESFT6XAxG2kXm9IdcZB0NZRaqx"  # not lower-cased
    assert is_destination_url("relay://src_abc")


@pytest.mark.parametrize(
    "url",
    ["relay://", "relay://app_123", "relay://src_abc/path", "relay://src_abc?x=1", "relay://a b"],
)
def test_relay_url_refusals(url: str) -> None:
    with pytest.raises(ValueError, match=r"relay|whitespace|option|path"):
        parse_destination(url)
