"""Stripe: ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`` over ``<t>.<body>``.

The key is the endpoint secret exactly as shown, ``whsec_`` included (unlike Svix, whose
secret is base64-decoded first).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hookd.core.providers.config_fields import ConfigReader
from hookd.core.providers.digests import any_match, decode_hex, secret_hmacs
from hookd.core.providers.freshness import (
    DEFAULT_TOLERANCE_SECONDS,
    outside_window,
    parse_unix_seconds,
)
from hookd.core.providers.model import HandshakeReply, ProviderFacts, Verification
from hookd.core.providers.payload import text_at
from hookd.core.providers.request import InboundRequest
from hookd.core.providers.rotation import RotatingSecret

__all__ = ["PROVIDER", "StripeConfig", "StripeProvider"]

HEADER = "Stripe-Signature"


@dataclass(frozen=True, slots=True)
class StripeConfig:
    secret: RotatingSecret[str]
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS


def _parse_header(value: str) -> tuple[str | None, list[str]]:
    """The first ``t`` and every ``v1``; other schemes (the test-mode ``v0``) are ignored."""
    timestamp: str | None = None
    signatures: list[str] = []
    for item in value.split(","):
        key, _, text = item.strip().partition("=")
        if key == "t" and timestamp is None:
            timestamp = text
        elif key == "v1":
            signatures.append(text)
    return timestamp, signatures


@dataclass(frozen=True, slots=True)
class StripeProvider(ProviderFacts):
    name: str = "stripe"

    def parse_config(self, raw: Mapping[str, Any]) -> StripeConfig:
        reader = ConfigReader(raw)
        config = StripeConfig(reader.secret(), reader.tolerance(DEFAULT_TOLERANCE_SECONDS))
        reader.finish()
        return config

    def verify(self, request: InboundRequest, config: StripeConfig, now: datetime) -> Verification:
        header = request.headers.get(HEADER)
        if header is None:
            return Verification.missing_header(HEADER)
        timestamp_text, signatures = _parse_header(header)
        timestamp = parse_unix_seconds(timestamp_text) if timestamp_text is not None else None
        if timestamp is None:
            return Verification.malformed_header(HEADER, "has no valid t=<unix seconds>")
        if not signatures:
            return Verification.malformed_header(HEADER, "has no v1 signature")
        content = str(timestamp).encode() + b"." + request.body
        expected = secret_hmacs(config.secret.active(now), content)
        if not any_match(expected, (decode_hex(s) for s in signatures)):
            return Verification.mismatch()
        return outside_window(timestamp, now, config.tolerance_seconds) or Verification.accepted()

    def handshake(
        self, request: InboundRequest, config: StripeConfig, now: datetime
    ) -> HandshakeReply | None:
        return None

    def event_type(self, request: InboundRequest, config: StripeConfig) -> str | None:
        native = text_at(request.json_body, "type")
        return f"stripe.{native}" if native else None

    def dedup_key(self, request: InboundRequest, config: StripeConfig) -> str | None:
        return text_at(request.json_body, "id")


PROVIDER = StripeProvider()
