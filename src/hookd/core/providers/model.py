"""The shapes every inbound provider shares: its verdict, its handshake reply, its protocol."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeVar

from hookd.core.domain import StaticResponse
from hookd.core.providers.request import InboundRequest

__all__ = [
    "JSON_OK",
    "POST_ONLY",
    "ConfigError",
    "HandshakeReply",
    "Provider",
    "ProviderFacts",
    "Verification",
]

POST_ONLY = frozenset({"POST"})
# What an accepted request is answered with when neither the source nor its provider says.
JSON_OK = StaticResponse(200, "application/json", b'{"ok":true}')


class ConfigError(ValueError):
    """A source's provider configuration is invalid; ``field`` names the offending key."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Verification:
    """The verdict on one request: ``code`` is machine-readable, ``reason`` is for people."""

    ok: bool
    code: str
    reason: str

    @classmethod
    def accepted(cls, reason: str = "verified") -> Verification:
        if reason == "verified":
            return VERIFIED  # the verdict of nearly every request: made once
        return cls(ok=True, code="verified", reason=reason)

    @classmethod
    def rejected(cls, code: str, reason: str) -> Verification:
        return cls(ok=False, code=code, reason=reason)

    @classmethod
    def missing_header(cls, name: str) -> Verification:
        return cls(ok=False, code="missing_header", reason=f"missing header {name}")

    @classmethod
    def malformed_header(cls, name: str, detail: str) -> Verification:
        return cls(ok=False, code="malformed_header", reason=f"header {name} {detail}")

    @classmethod
    def mismatch(cls) -> Verification:
        return cls(ok=False, code="signature_mismatch", reason="signature does not match")


VERIFIED = Verification(ok=True, code="verified", reason="verified")


@dataclass(frozen=True, slots=True)
class HandshakeReply:
    """A reply the HTTP layer sends as is, without storing or forwarding the request."""

    status: int
    content_type: str | None
    body: bytes
    # Extra response headers; echoed challenges carry ``nosniff`` so browsers never render them.
    headers: tuple[tuple[str, str], ...] = ()
    # Set when the handshake is refused (4xx): why, as a verdict, for the request's record.
    refused: Verification | None = None


ConfigT = TypeVar("ConfigT")


class Provider(Protocol[ConfigT]):
    """One provider family: parses a source's config and judges requests against it.

    Every method is pure and total: garbage input yields ``ok=False``, ``None`` or a 4xx reply,
    never an exception. Only ``parse_config`` raises, and only :class:`ConfigError`.
    """

    @property
    def name(self) -> str: ...

    @property
    def methods(self) -> frozenset[str]:
        """The HTTP methods the provider calls with (other methods: 405)."""
        ...

    @property
    def default_response(self) -> StaticResponse:
        """What the provider expects back when the source configures no response."""
        ...

    def parse_config(self, raw: Mapping[str, Any]) -> ConfigT: ...

    def verify(self, request: InboundRequest, config: ConfigT, now: datetime) -> Verification: ...

    def handshake(
        self, request: InboundRequest, config: ConfigT, now: datetime
    ) -> HandshakeReply | None: ...

    def event_type(self, request: InboundRequest, config: ConfigT) -> str | None: ...

    def dedup_key(self, request: InboundRequest, config: ConfigT) -> str | None: ...


class ProviderFacts:
    """The common answers to what a :class:`Provider` declares beside its checks: it only
    POSTs, and takes ``{"ok":true}`` back. A provider overrides what differs."""

    __slots__ = ()
    methods: ClassVar[frozenset[str]] = POST_ONLY
    default_response: ClassVar[StaticResponse] = JSON_OK
