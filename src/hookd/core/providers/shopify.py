"""Shopify: base64 HMAC-SHA256 of the body in ``X-Shopify-Hmac-Sha256``.

The newer Events delivery sends the same headers without the ``X-`` prefix. After a secret
rotation Shopify keeps signing with the old secret for up to an hour, hence rotation support.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hookd.core.providers.config_fields import ConfigReader
from hookd.core.providers.digests import any_match, decode_base64, secret_hmacs
from hookd.core.providers.model import HandshakeReply, ProviderFacts, Verification
from hookd.core.providers.request import InboundRequest
from hookd.core.providers.rotation import RotatingSecret

__all__ = ["PROVIDER", "ShopifyConfig", "ShopifyProvider"]

HMAC_HEADER = "X-Shopify-Hmac-Sha256"


def _header(request: InboundRequest, name: str) -> str | None:
    """``X-Shopify-<name>``, or the Events delivery's ``Shopify-<name>``."""
    value = request.headers.get(f"X-Shopify-{name}") or request.headers.get(f"Shopify-{name}")
    if value is None:
        return None
    return value.strip() or None


@dataclass(frozen=True, slots=True)
class ShopifyConfig:
    secret: RotatingSecret[str]


@dataclass(frozen=True, slots=True)
class ShopifyProvider(ProviderFacts):
    name: str = "shopify"

    def parse_config(self, raw: Mapping[str, Any]) -> ShopifyConfig:
        reader = ConfigReader(raw)
        config = ShopifyConfig(reader.secret())
        reader.finish()
        return config

    def verify(self, request: InboundRequest, config: ShopifyConfig, now: datetime) -> Verification:
        value = _header(request, "Hmac-Sha256")
        if value is None:
            return Verification.missing_header(HMAC_HEADER)
        expected = secret_hmacs(config.secret.active(now), request.body)
        if any_match(expected, [decode_base64(value)]):
            return Verification.accepted()
        return Verification.mismatch()

    def handshake(
        self, request: InboundRequest, config: ShopifyConfig, now: datetime
    ) -> HandshakeReply | None:
        return None

    def event_type(self, request: InboundRequest, config: ShopifyConfig) -> str | None:
        topic = _header(request, "Topic")
        return f"shopify.{topic}" if topic else None

    def dedup_key(self, request: InboundRequest, config: ShopifyConfig) -> str | None:
        # Current docs name Webhook-Id; older ones Event-Id, which older apps still receive.
        return _header(request, "Webhook-Id") or _header(request, "Event-Id")


PROVIDER = ShopifyProvider()
