"""Paddle Billing: ``Paddle-Signature: ts=<unix>;h1=<hex>[;h1=...]`` over ``<ts>:<body>``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hookd.core.providers.config_fields import ConfigReader
from hookd.core.providers.digests import any_match, decode_hex, secret_hmacs
from hookd.core.providers.freshness import outside_window, parse_unix_seconds
from hookd.core.providers.model import HandshakeReply, ProviderFacts, Verification
from hookd.core.providers.payload import text_at
from hookd.core.providers.request import InboundRequest, header_bytes
from hookd.core.providers.rotation import RotatingSecret

__all__ = ["DEFAULT_TOLERANCE_SECONDS", "PROVIDER", "PaddleConfig", "PaddleProvider"]

HEADER = "Paddle-Signature"
# Paddle's SDKs default to 5 s; a source whose clock drifts can widen it.
DEFAULT_TOLERANCE_SECONDS = 5


@dataclass(frozen=True, slots=True)
class PaddleConfig:
    secret: RotatingSecret[str]  # the notification destination's secret key
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS


@dataclass(frozen=True, slots=True)
class PaddleProvider(ProviderFacts):
    name: str = "paddle"

    def parse_config(self, raw: Mapping[str, Any]) -> PaddleConfig:
        reader = ConfigReader(raw)
        config = PaddleConfig(reader.secret(), reader.tolerance(DEFAULT_TOLERANCE_SECONDS))
        reader.finish()
        return config

    def verify(self, request: InboundRequest, config: PaddleConfig, now: datetime) -> Verification:
        header = request.headers.get(HEADER)
        if header is None:
            return Verification.missing_header(HEADER)
        timestamp_text: str | None = None
        signatures: list[str] = []
        for item in header.split(";"):
            key, _, value = item.strip().partition("=")
            if key == "ts" and timestamp_text is None:
                timestamp_text = value
            elif key == "h1":
                signatures.append(value)
        timestamp = parse_unix_seconds(timestamp_text) if timestamp_text is not None else None
        if timestamp is None or timestamp_text is None:
            return Verification.malformed_header(HEADER, "has no valid ts=<unix seconds>")
        if not signatures:
            return Verification.malformed_header(HEADER, "has no h1 signature")
        content = header_bytes(timestamp_text.strip()) + b":" + request.body
        expected = secret_hmacs(config.secret.active(now), content)
        if not any_match(expected, (decode_hex(s) for s in signatures)):
            return Verification.mismatch()
        return outside_window(timestamp, now, config.tolerance_seconds) or Verification.accepted()

    def handshake(
        self, request: InboundRequest, config: PaddleConfig, now: datetime
    ) -> HandshakeReply | None:
        return None

    def event_type(self, request: InboundRequest, config: PaddleConfig) -> str | None:
        native = text_at(request.json_body, "event_type")
        return f"paddle.{native}" if native else None

    def dedup_key(self, request: InboundRequest, config: PaddleConfig) -> str | None:
        body = request.json_body
        return text_at(body, "event_id") or text_at(body, "notification_id")


PROVIDER = PaddleProvider()
