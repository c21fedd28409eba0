"""Providers that send a signature header beside a signed Unix-seconds timestamp header.

Slack, Zoom (which copied Slack's ``v0`` scheme) and Discord all read the same pair of headers
before checking a signature over the timestamp and the body.
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
from hookd.core.providers.model import Verification
from hookd.core.providers.request import InboundRequest, header_bytes
from hookd.core.providers.rotation import RotatingSecret

__all__ = [
    "SignedTimestamp",
    "V0HmacConfig",
    "parse_v0_config",
    "read_signed_timestamp",
    "verify_v0_hmac",
]


@dataclass(frozen=True, slots=True)
class V0HmacConfig:
    """Slack's and Zoom's settings: the (rotatable) signing secret and the replay window."""

    secret: RotatingSecret[str]
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS


def parse_v0_config(raw: Mapping[str, Any]) -> V0HmacConfig:
    reader = ConfigReader(raw)
    config = V0HmacConfig(reader.secret(), reader.tolerance(DEFAULT_TOLERANCE_SECONDS))
    reader.finish()
    return config


@dataclass(frozen=True, slots=True)
class SignedTimestamp:
    signature: str
    # Providers sign the timestamp as sent, so "0123" must not become "123".
    timestamp_bytes: bytes
    timestamp: int


def read_signed_timestamp(
    request: InboundRequest, signature_header: str, timestamp_header: str
) -> SignedTimestamp | Verification:
    """Both headers, the timestamp parsed; or the rejection that says which one is wrong."""
    signature = request.headers.get(signature_header)
    timestamp_text = request.headers.get(timestamp_header)
    if signature is None:
        return Verification.missing_header(signature_header)
    if timestamp_text is None:
        return Verification.missing_header(timestamp_header)
    timestamp = parse_unix_seconds(timestamp_text)
    if timestamp is None:
        return Verification.malformed_header(timestamp_header, "is not Unix seconds")
    return SignedTimestamp(signature, header_bytes(timestamp_text.strip()), timestamp)


def verify_v0_hmac(
    request: InboundRequest,
    config: V0HmacConfig,
    now: datetime,
    signature_header: str,
    timestamp_header: str,
) -> Verification:
    """``v0=<hex>`` HMAC-SHA256 over ``v0:<timestamp>:<body>``, inside the replay window."""
    signed = read_signed_timestamp(request, signature_header, timestamp_header)
    if isinstance(signed, Verification):
        return signed
    version, _, encoded = signed.signature.strip().partition("=")
    if version != "v0":
        return Verification.malformed_header(signature_header, "is not v0=<hex>")
    content = b"v0:" + signed.timestamp_bytes + b":" + request.body
    if not any_match(secret_hmacs(config.secret.active(now), content), [decode_hex(encoded)]):
        return Verification.mismatch()
    return outside_window(signed.timestamp, now, config.tolerance_seconds) or (
        Verification.accepted()
    )
