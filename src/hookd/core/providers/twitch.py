"""Twitch EventSub: ``sha256=<hex>`` over message id + timestamp + body.

``Twitch-Eventsub-Message-Timestamp`` is RFC 3339 with nanoseconds; Twitch tells receivers to
drop messages older than ten minutes, hence the default tolerance.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hookd.core.providers.challenge import echo_reply
from hookd.core.providers.config_fields import ConfigReader
from hookd.core.providers.digests import any_match, decode_hex, secret_hmacs
from hookd.core.providers.freshness import outside_window
from hookd.core.providers.model import HandshakeReply, ProviderFacts, Verification
from hookd.core.providers.payload import text_at
from hookd.core.providers.request import InboundRequest, header_bytes
from hookd.core.providers.rotation import RotatingSecret

__all__ = ["DEFAULT_TOLERANCE_SECONDS", "PROVIDER", "TwitchConfig", "TwitchProvider"]

PREFIX = "Twitch-Eventsub-Message-"
ID_HEADER = PREFIX + "Id"
TIMESTAMP_HEADER = PREFIX + "Timestamp"
SIGNATURE_HEADER = PREFIX + "Signature"
TYPE_HEADER = PREFIX + "Type"
SUBSCRIPTION_HEADER = "Twitch-Eventsub-Subscription-Type"
DEFAULT_TOLERANCE_SECONDS = 600
_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})"
)


def parse_rfc3339(text: str) -> float | None:
    """Seconds since the epoch; nanosecond fractions are kept to microseconds."""
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        return None
    day, clock, fraction, zone = match.groups()
    zone = "+00:00" if zone in ("Z", "z") else zone
    micro = f".{(fraction or '0')[:6]:0<6}"
    try:
        parsed = datetime.fromisoformat(f"{day}T{clock}{micro}{zone}")
    except ValueError:
        return None
    return parsed.astimezone(UTC).timestamp()


@dataclass(frozen=True, slots=True)
class TwitchConfig:
    secret: RotatingSecret[str]  # the subscription's secret (10 to 100 characters)
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS


@dataclass(frozen=True, slots=True)
class TwitchProvider(ProviderFacts):
    name: str = "twitch"

    def parse_config(self, raw: Mapping[str, Any]) -> TwitchConfig:
        reader = ConfigReader(raw)
        config = TwitchConfig(reader.secret(), reader.tolerance(DEFAULT_TOLERANCE_SECONDS))
        reader.finish()
        return config

    def verify(self, request: InboundRequest, config: TwitchConfig, now: datetime) -> Verification:
        values = {}
        for name in (ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER):
            value = request.headers.get(name)
            if value is None:
                return Verification.missing_header(name)
            values[name] = value.strip()
        timestamp = parse_rfc3339(values[TIMESTAMP_HEADER])
        if timestamp is None:
            return Verification.malformed_header(TIMESTAMP_HEADER, "is not an RFC 3339 time")
        algorithm, _, encoded = values[SIGNATURE_HEADER].partition("=")
        if algorithm != "sha256":
            return Verification.malformed_header(SIGNATURE_HEADER, "is not sha256=<hex>")
        content = (
            header_bytes(values[ID_HEADER]) + header_bytes(values[TIMESTAMP_HEADER]) + request.body
        )
        expected = secret_hmacs(config.secret.active(now), content)
        if not any_match(expected, [decode_hex(encoded)]):
            return Verification.mismatch()
        return outside_window(timestamp, now, config.tolerance_seconds) or Verification.accepted()

    def handshake(
        self, request: InboundRequest, config: TwitchConfig, now: datetime
    ) -> HandshakeReply | None:
        """Echo a signed ``webhook_callback_verification`` challenge as ``text/plain``."""
        if (request.headers.get(TYPE_HEADER) or "").strip() != "webhook_callback_verification":
            return None
        challenge = text_at(request.json_body, "challenge")
        if challenge is None or not self.verify(request, config, now).ok:
            return None
        return echo_reply(challenge)

    def event_type(self, request: InboundRequest, config: TwitchConfig) -> str | None:
        """``twitch.<subscription type>`` for notifications, ``twitch.revocation`` etc. else."""
        message_type = (request.headers.get(TYPE_HEADER) or "").strip()
        subscription = (request.headers.get(SUBSCRIPTION_HEADER) or "").strip()
        if message_type == "notification" and subscription:
            return f"twitch.{subscription}"
        return f"twitch.{message_type}" if message_type else None

    def dedup_key(self, request: InboundRequest, config: TwitchConfig) -> str | None:
        return (request.headers.get(ID_HEADER) or "").strip() or None


PROVIDER = TwitchProvider()
