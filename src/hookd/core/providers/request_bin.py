"""``bin``: a request bin, the source that verifies nothing and captures everything.

A bin is a source of this built-in type (docs/bins.md): its capture URL (``/in/{token}``, and
any path under it) takes any method; each request is stored as it came and answered with the
bin's configured answer (status, headers, body, after an optional delay). Its config is the
bin API's shape::

    {"answer": {"statusCode": 200, "headers": {"x-a": "1"}, "body": "", "delayMs": 0},
     "ttlSeconds": 604800}

Parsing it here keeps one set of rules for both ways of making a bin (``POST /api/v1/bin``, and a
source of type ``bin`` through the Ingest API).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from hookd.core.domain import StaticResponse
from hookd.core.providers.config_fields import ConfigReader
from hookd.core.providers.model import ConfigError, HandshakeReply, Verification
from hookd.core.providers.request import InboundRequest

__all__ = [
    "BIN",
    "DEFAULT_TTL_SECONDS",
    "MAX_ANSWER_BODY_BYTES",
    "MAX_DELAY_MS",
    "MAX_TTL_SECONDS",
    "PROVIDER",
    "BinAnswer",
    "BinConfig",
    "BinProvider",
    "parse_bin_config",
]

BIN = "bin"
MAX_DELAY_MS = 60_000  # a minute: long enough to test any sender's timeout
MAX_TTL_SECONDS = 30 * 24 * 3600
DEFAULT_TTL_SECONDS = 7 * 24 * 3600
MAX_ANSWER_BODY_BYTES = 64 * 1024
MAX_ANSWER_HEADERS = 32
MAX_HEADER_VALUE = 4096
# RFC 9110 token: a header name.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# Framing is the server's: an answer's own would contradict the body it sends.
FRAMING_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "trailer"}
)
# Statuses that carry no body (RFC 9110): a configured body would break the response.
BODILESS = frozenset({204, 304})


@dataclass(frozen=True, slots=True)
class BinAnswer:
    """What every request to the bin is answered with."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    delay_ms: int = 0

    def as_config(self) -> dict[str, Any]:
        return {
            "statusCode": self.status,
            "headers": dict(self.headers),
            "body": self.body.decode("utf-8"),
            "delayMs": self.delay_ms,
        }


@dataclass(frozen=True, slots=True)
class BinConfig:
    answer: BinAnswer
    ttl_seconds: int = DEFAULT_TTL_SECONDS

    def as_config(self) -> dict[str, Any]:
        """The source config that parses back to this (what is stored)."""
        return {"answer": self.answer.as_config(), "ttlSeconds": self.ttl_seconds}


def _headers(raw: Any) -> tuple[tuple[str, str], ...]:
    field = "answer.headers"
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise ConfigError(field, "must be an object of header names to values")
    if len(raw) > MAX_ANSWER_HEADERS:
        raise ConfigError(field, f"may hold at most {MAX_ANSWER_HEADERS} headers")
    headers: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, value in raw.items():
        if not isinstance(name, str) or _TOKEN.fullmatch(name) is None:
            raise ConfigError(field, f"{name!r} is not a header name")
        lowered = name.lower()
        if lowered in FRAMING_HEADERS:
            raise ConfigError(field, f"{name} is set by the server from the body it sends")
        if lowered in seen:
            raise ConfigError(field, f"{name} is given twice (header names ignore case)")
        seen.add(lowered)
        if not isinstance(value, str):
            raise ConfigError(field, f"the value of {name} must be a string")
        if len(value) > MAX_HEADER_VALUE or _CONTROL.search(value) is not None:
            raise ConfigError(
                field,
                f"the value of {name} must be one line of at most {MAX_HEADER_VALUE} characters",
            )
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise ConfigError(field, f"the value of {name} must be Latin-1 text") from None
        headers.append((lowered, value))
    return tuple(headers)


def _answer(raw: Any) -> BinAnswer:
    if raw is None:
        return BinAnswer()
    if not isinstance(raw, Mapping):
        raise ConfigError("answer", "must be a JSON object")
    unknown = sorted(str(k) for k in raw if k not in ("statusCode", "headers", "body", "delayMs"))
    if unknown:
        raise ConfigError(f"answer.{unknown[0]}", "is not a known field of a bin's answer")
    reader = ConfigReader(raw)
    try:
        status = reader.integer("statusCode", 200, 200, 599)
        body = reader.text("body", "", allow_empty=True).encode("utf-8")
        delay_ms = reader.integer("delayMs", 0, 0, MAX_DELAY_MS)
    except ConfigError as exc:
        raise ConfigError(f"answer.{exc.field}", exc.message) from None
    if len(body) > MAX_ANSWER_BODY_BYTES:
        raise ConfigError("answer.body", f"must be at most {MAX_ANSWER_BODY_BYTES} bytes")
    if body and status in BODILESS:
        raise ConfigError("answer.body", f"must be empty: a {status} answer has no body")
    return BinAnswer(status, _headers(raw.get("headers")), body, delay_ms)


def parse_bin_config(raw: Mapping[str, Any]) -> BinConfig:
    """A bin's config, validated; :class:`ConfigError` names the field (``answer.statusCode``)."""
    reader = ConfigReader(raw)
    ttl = reader.integer("ttlSeconds", DEFAULT_TTL_SECONDS, 1, MAX_TTL_SECONDS)
    answer = _answer(reader.raw("answer"))
    reader.finish()
    return BinConfig(answer, ttl)


class BinProvider:
    """The ``bin`` type as a provider: every request passes (a bin captures, it does not judge).

    ``methods`` lists the common ones for reference only: the ingest door lets a bin take any
    method at all (``services.ingest.receive.find_source``).
    """

    __slots__ = ()
    name: ClassVar[str] = BIN
    methods: ClassVar[frozenset[str]] = frozenset(
        {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    )
    default_response: ClassVar[StaticResponse] = StaticResponse(200, None, b"")

    def parse_config(self, raw: Mapping[str, Any]) -> BinConfig:
        return parse_bin_config(raw)

    def verify(self, request: InboundRequest, config: BinConfig, now: datetime) -> Verification:
        return Verification.accepted("captured by a request bin")

    def handshake(
        self, request: InboundRequest, config: BinConfig, now: datetime
    ) -> HandshakeReply | None:
        return None

    def event_type(self, request: InboundRequest, config: BinConfig) -> str | None:
        return None

    def dedup_key(self, request: InboundRequest, config: BinConfig) -> str | None:
        return None


PROVIDER = BinProvider()
