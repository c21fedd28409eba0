"""Broker destinations: parse an endpoint URL that names a broker instead of an HTTP receiver.

Pure: :func:`parse_destination` turns ``redis://``, ``amqp://``, ``nats://``, ``kafka://`` and
``sqs://`` URLs into a :class:`DestinationTarget`, or raises ValueError with a message fit for a
422 response. The URL forms are documented in ``docs/destinations.md``. ``relay://{relay id}``
is no broker but a relay's listeners (``hookd listen``, docs/listen.md), sent through the same
port.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlsplit

from hookd.core.urls import MAX_URL_LENGTH


class DestinationKind(StrEnum):
    REDIS = "redis"
    AMQP = "amqp"
    NATS = "nats"
    KAFKA = "kafka"
    SQS = "sqs"
    RELAY = "relay"  # a relay's listeners (``hookd listen``, docs/listen.md), not a broker


# scheme -> (kind, TLS, default port)
SCHEMES: dict[str, tuple[DestinationKind, bool, int]] = {
    "redis": (DestinationKind.REDIS, False, 6379),
    "rediss": (DestinationKind.REDIS, True, 6379),
    "amqp": (DestinationKind.AMQP, False, 5672),
    "amqps": (DestinationKind.AMQP, True, 5671),
    "nats": (DestinationKind.NATS, False, 4222),
    "kafka": (DestinationKind.KAFKA, False, 9092),
    "sqs": (DestinationKind.SQS, False, 80),
    "sqs+http": (DestinationKind.SQS, False, 80),
    "sqs+https": (DestinationKind.SQS, True, 443),
    "relay": (DestinationKind.RELAY, False, 0),
}

# Query options each kind accepts; anything else is a typo the user should hear about.
OPTIONS: dict[DestinationKind, frozenset[str]] = {
    DestinationKind.REDIS: frozenset({"stream", "maxlen"}),
    DestinationKind.AMQP: frozenset({"exchange", "routing_key", "queue"}),
    DestinationKind.NATS: frozenset({"subject", "stream"}),
    DestinationKind.KAFKA: frozenset({"topic", "key"}),
    DestinationKind.SQS: frozenset({"region", "group"}),
    DestinationKind.RELAY: frozenset(),
}

_AMQP_NAME = re.compile(r"[A-Za-z0-9_.:\-]{1,255}")
_NATS_STREAM = re.compile(r"[^\s.*>/\\]{1,255}")
_KAFKA_TOPIC = re.compile(r"[A-Za-z0-9._\-]{1,249}")
_SQS_QUEUE = re.compile(r"[A-Za-z0-9_\-]{1,75}(\.fifo)?|[A-Za-z0-9_\-]{1,80}")
_AWS_ACCOUNT = re.compile(r"[0-9]{12}")
_AWS_REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+)+")
_RELAY_ID = re.compile(r"src_[0-9A-Za-z]{1,40}")


@dataclass(frozen=True, slots=True)
class DestinationTarget:
    """Where one broker endpoint publishes.

    ``connection_url`` names the broker connection (scheme, credentials, host, port, and the
    Redis database or AMQP vhost) and is the key clients are pooled by; ``resource`` is the
    stream, exchange or queue, subject, topic or queue name; ``options`` holds the rest.
    """

    kind: DestinationKind
    connection_url: str
    host: str
    port: int
    tls: bool
    resource: str
    display_url: str  # connection_url with the password masked, for messages and logs
    username: str | None = None
    password: str | None = None
    options: tuple[tuple[str, str], ...] = ()

    def option(self, name: str) -> str | None:
        return next((value for key, value in self.options if key == name), None)


def is_destination_url(url: str) -> bool:
    """Whether ``url`` names a broker (and not an HTTP receiver)."""
    scheme, sep, _ = url.partition("://")
    return bool(sep) and scheme.lower() in SCHEMES


HTTP_KIND = "http"
# Every destination kind an endpoint can have, for telemetry: HTTP receivers and each broker.
KINDS: tuple[str, ...] = (HTTP_KIND, *(kind.value for kind in DestinationKind))
_SCHEME_KINDS = {scheme: kind.value for scheme, (kind, _, _) in SCHEMES.items()}


def destination_kind(url: str) -> str:
    """``"http"`` for an HTTP receiver, else the broker's kind (``"redis"``, ...): one of
    :data:`KINDS`."""
    scheme = url[: url.find(":")]
    return _SCHEME_KINDS.get(scheme) or _SCHEME_KINDS.get(scheme.lower(), HTTP_KIND)


def parse_destination(url: str) -> DestinationTarget:
    """Parse a broker endpoint URL; raise ValueError saying what is wrong with it."""
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"URL is longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() for ch in url):
        raise ValueError("URL contains whitespace")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"URL is malformed: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(
            f"URL scheme must be one of {', '.join(SCHEMES)}, not {parts.scheme or 'missing'!r}"
        )
    kind, tls, default_port = SCHEMES[scheme]
    if not parts.hostname:
        raise ValueError(f"{scheme}:// URL has no host")
    if port == 0:
        raise ValueError("URL port must be between 1 and 65535")
    if parts.fragment:
        raise ValueError("URL must not have a #fragment")
    options = _query_options(parts.query, kind, scheme)
    base = _Base(
        kind=kind,
        scheme=scheme,
        tls=tls,
        host=parts.hostname,
        port=port or default_port,
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )
    parse = _PARSERS[kind]
    return parse(base, parts, options)


@dataclass(frozen=True, slots=True)
class _Base:
    kind: DestinationKind
    scheme: str
    tls: bool
    host: str
    port: int
    username: str | None
    password: str | None

    def connection_url(self, path: str = "", *, masked: bool = False) -> str:
        userinfo = ""
        if self.username is not None or self.password is not None:
            userinfo = _quote_userinfo(self.username or "")
            if self.password is not None:
                userinfo += ":" + ("***" if masked else _quote_userinfo(self.password))
            userinfo += "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{userinfo}{host}:{self.port}{path}"

    def target(self, resource: str, path: str = "", **options: str | None) -> DestinationTarget:
        return DestinationTarget(
            kind=self.kind,
            connection_url=self.connection_url(path),
            host=self.host,
            port=self.port,
            tls=self.tls,
            resource=resource,
            display_url=self.connection_url(path, masked=True),
            username=self.username,
            password=self.password,
            options=tuple((key, value) for key, value in options.items() if value is not None),
        )


def _quote_userinfo(text: str) -> str:
    return quote(text, safe="")


def _query_options(query: str, kind: DestinationKind, scheme: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError as exc:
        raise ValueError(f"URL query is malformed: {exc}") from exc
    allowed = OPTIONS[kind]
    options: dict[str, str] = {}
    for key, value in pairs:
        if key not in allowed:
            names = ", ".join(sorted(allowed))
            raise ValueError(f"unknown option {key!r} for {scheme}:// URLs (allowed: {names})")
        if key in options:
            raise ValueError(f"option {key!r} is given more than once")
        if not value:
            raise ValueError(f"option {key!r} is empty")
        options[key] = value
    return options


def _require(options: dict[str, str], name: str, scheme: str) -> str:
    value = options.get(name)
    if value is None:
        raise ValueError(f"{scheme}:// URL needs ?{name}=...")
    return value


def _positive_int(options: dict[str, str], name: str) -> str | None:
    value = options.get(name)
    if value is not None and not (value.isdigit() and int(value) > 0):
        raise ValueError(f"option {name!r} must be a positive integer, not {value!r}")
    return value


def _no_path(parts: SplitResult, scheme: str) -> None:
    if parts.path not in ("", "/"):
        raise ValueError(f"{scheme}:// URL takes no path, got {parts.path!r}")


def _redis(base: _Base, parts: SplitResult, options: dict[str, str]) -> DestinationTarget:
    db = parts.path.strip("/") or "0"
    if not db.isdigit():
        raise ValueError(f"redis database must be a number, as in redis://host:6379/0, not {db!r}")
    stream = _require(options, "stream", base.scheme)
    maxlen = _positive_int(options, "maxlen")
    return base.target(stream, f"/{int(db)}", maxlen=maxlen)


def _amqp(base: _Base, parts: SplitResult, options: dict[str, str]) -> DestinationTarget:
    # As in aio-pika and most clients: no path or "/" means the default vhost "/".
    vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
    exchange, queue = options.get("exchange"), options.get("queue")
    routing_key = options.get("routing_key")
    path = "/" + quote(vhost, safe="")
    if (exchange is None) == (queue is None):
        raise ValueError(
            "amqp:// URL needs either ?exchange=...&routing_key=... or ?queue=... (not both)"
        )
    if queue is not None:
        if routing_key is not None:
            raise ValueError("routing_key goes with exchange; ?queue=... is its own routing key")
        if not _AMQP_NAME.fullmatch(queue):
            raise ValueError(f"not a valid AMQP queue name: {queue!r}")
        # The default exchange routes by queue name.
        return base.target(queue, path, exchange="", routing_key=queue)
    assert exchange is not None
    if not _AMQP_NAME.fullmatch(exchange):
        raise ValueError(f"not a valid AMQP exchange name: {exchange!r}")
    if routing_key is not None and len(routing_key.encode()) > 255:
        raise ValueError("routing_key is longer than 255 bytes")
    return base.target(exchange, path, exchange=exchange, routing_key=routing_key or "")


def _nats(base: _Base, parts: SplitResult, options: dict[str, str]) -> DestinationTarget:
    _no_path(parts, base.scheme)
    subject = _require(options, "subject", base.scheme)
    tokens = subject.split(".")
    if any(not token for token in tokens) or any(token in ("*", ">") for token in tokens):
        raise ValueError(
            f"not a publishable NATS subject: {subject!r} (dot-separated, no wildcards)"
        )
    stream = options.get("stream")
    if stream is not None and not _NATS_STREAM.fullmatch(stream):
        raise ValueError(f"not a valid JetStream stream name: {stream!r}")
    return base.target(subject, stream=stream)


def _kafka(base: _Base, parts: SplitResult, options: dict[str, str]) -> DestinationTarget:
    _no_path(parts, base.scheme)
    if base.username is not None or base.password is not None:
        raise ValueError("kafka:// URLs do not take credentials (SASL is not supported yet)")
    topic = _require(options, "topic", base.scheme)
    if not _KAFKA_TOPIC.fullmatch(topic) or topic in (".", ".."):
        raise ValueError(f"not a valid Kafka topic: {topic!r} (letters, digits, '.', '_', '-')")
    return base.target(topic, key=options.get("key"))


def _sqs(base: _Base, parts: SplitResult, options: dict[str, str]) -> DestinationTarget:
    if (base.username is None) != (base.password is None) or base.username == "":
        raise ValueError("sqs:// credentials need both access key id and secret: key:secret@host")
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if len(segments) == 1:
        account, queue = None, segments[0]
    elif len(segments) == 2:
        account, queue = segments
    else:
        raise ValueError("sqs:// URL path must be /queue-name or /account-id/queue-name")
    if account is not None and not _AWS_ACCOUNT.fullmatch(account):
        raise ValueError(f"not an AWS account id (12 digits): {account!r}")
    if not _SQS_QUEUE.fullmatch(queue):
        raise ValueError(f"not a valid SQS queue name: {queue!r}")
    region = options.get("region")
    if region is not None and not _AWS_REGION.fullmatch(region):
        raise ValueError(f"not an AWS region: {region!r}")
    group = options.get("group")
    if group is not None and not queue.endswith(".fifo"):
        raise ValueError("option 'group' is only for FIFO queues (names ending in .fifo)")
    return base.target(queue, region=region, account=account, group=group)


def _relay(base: _Base, parts: SplitResult, options: dict[str, str]) -> DestinationTarget:
    """``relay://{relay id}``: the listeners connected to that relay (hookd listen). The id is
    read from the netloc as written (``hostname`` would lower-case it)."""
    _no_path(parts, base.scheme)
    relay_id = parts.netloc
    if not _RELAY_ID.fullmatch(relay_id):
        raise ValueError(f"relay:// URL must name a relay id (src_...), not {relay_id!r}")
    return DestinationTarget(
        kind=DestinationKind.RELAY,
        connection_url=f"relay://{relay_id}",
        host=relay_id,
        port=0,
        tls=False,
        resource=relay_id,
        display_url=f"relay://{relay_id}",
    )


_PARSERS = {
    DestinationKind.REDIS: _redis,
    DestinationKind.AMQP: _amqp,
    DestinationKind.NATS: _nats,
    DestinationKind.KAFKA: _kafka,
    DestinationKind.SQS: _sqs,
    DestinationKind.RELAY: _relay,
}
