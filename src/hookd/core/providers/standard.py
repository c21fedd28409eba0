"""Standard Webhooks and Svix: ``webhook-id``/``-timestamp``/``-signature`` (Svix: ``svix-*``).

Signatures are checked by :mod:`hookd.core.signing`, the module hookd signs its own outbound
messages with, so ``v1`` (HMAC-SHA256) and ``v1a`` (Ed25519) behave identically both ways.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hookd.core import signing
from hookd.core.providers.config_fields import ConfigReader
from hookd.core.providers.freshness import (
    DEFAULT_TOLERANCE_SECONDS,
    outside_window,
    parse_unix_seconds,
)
from hookd.core.providers.model import HandshakeReply, ProviderFacts, Verification
from hookd.core.providers.payload import text_at
from hookd.core.providers.request import InboundRequest, header_bytes
from hookd.core.providers.rotation import RotatingSecret

__all__ = [
    "STANDARD_WEBHOOKS",
    "SVIX",
    "StandardWebhooksConfig",
    "StandardWebhooksProvider",
    "verify_standard_webhook",
]


def verify_standard_webhook(
    request: InboundRequest,
    keys: tuple[signing.VerifyingKey, ...],
    now: datetime,
    tolerance_seconds: int,
    header_prefixes: tuple[str, ...] = ("webhook",),
) -> Verification:
    """Check the id, timestamp and signature headers under the first prefix that has an id."""
    prefix = next(
        (p for p in header_prefixes if request.headers.get(f"{p}-id") is not None),
        header_prefixes[0],
    )
    names = [f"{prefix}-id", f"{prefix}-timestamp", f"{prefix}-signature"]
    values = [request.headers.get(name) for name in names]
    for name, value in zip(names, values, strict=True):
        if value is None:
            return Verification.missing_header(name)
    msg_id, timestamp_text, signature = (value or "" for value in values)
    try:
        # The id is signed as UTF-8; undo the server's Latin-1 decoding to get those bytes.
        msg_id = header_bytes(msg_id).decode()
    except UnicodeDecodeError:
        return Verification.malformed_header(names[0], "is not UTF-8")
    # Validated here because a huge integer would overflow inside the float arithmetic.
    timestamp = parse_unix_seconds(timestamp_text)
    if timestamp is None:
        return Verification.malformed_header(names[1], "is not Unix seconds")
    stale = outside_window(timestamp, now, tolerance_seconds)
    try:
        signing.verify(
            list(keys), msg_id, str(timestamp), signature, request.body,
            now=now, tolerance_seconds=None,
        )  # fmt: skip
    except signing.SignatureError:
        return Verification.mismatch()
    return stale or Verification.accepted()


@dataclass(frozen=True, slots=True)
class StandardWebhooksConfig:
    # whsec_ (v1), or whpk_/whsk_ (v1a); rotation keeps the replaced key until it expires.
    secret: RotatingSecret[signing.VerifyingKey]
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS


@dataclass(frozen=True, slots=True)
class StandardWebhooksProvider(ProviderFacts):
    name: str
    header_prefixes: tuple[str, ...]

    def parse_config(self, raw: Mapping[str, Any]) -> StandardWebhooksConfig:
        reader = ConfigReader(raw)
        config = StandardWebhooksConfig(
            reader.rotating("secret", signing.parse_verifying_key),
            reader.tolerance(DEFAULT_TOLERANCE_SECONDS),
        )
        reader.finish()
        return config

    def verify(
        self, request: InboundRequest, config: StandardWebhooksConfig, now: datetime
    ) -> Verification:
        return verify_standard_webhook(
            request,
            config.secret.active(now),
            now,
            config.tolerance_seconds,
            self.header_prefixes,
        )

    def handshake(
        self, request: InboundRequest, config: StandardWebhooksConfig, now: datetime
    ) -> HandshakeReply | None:
        return None

    def event_type(self, request: InboundRequest, config: StandardWebhooksConfig) -> str | None:
        # The spec's payload is {"type", "timestamp", "data"}; Svix users often send eventType.
        body = request.json_body
        native = text_at(body, "type") or text_at(body, "eventType")
        return f"{self.name}.{native}" if native else None

    def dedup_key(self, request: InboundRequest, config: StandardWebhooksConfig) -> str | None:
        for prefix in self.header_prefixes:
            value = (request.headers.get(f"{prefix}-id") or "").strip()
            if value:
                return value
        return None


STANDARD_WEBHOOKS = StandardWebhooksProvider("standard-webhooks", ("webhook",))
# Svix sends svix-* headers; messages relayed through Standard Webhooks tooling use webhook-*.
SVIX = StandardWebhooksProvider("svix", ("svix", "webhook"))
# Svix source types whose senders sign like Svix (Standard Webhooks); SVIX verifies them.
SVIX_SIGNED_TYPES = frozenset(
    {
        "beehiiv",
        "brex",
        "clerk",
        "guesty",
        "incident-io",
        "lithic",
        "nash",
        "open-ai",
        "pleo",
        "psi-fi",
        "render",
        "replicate",
        "resend",
        "safebase",
        "sardine",
        "stych",
    }
)
