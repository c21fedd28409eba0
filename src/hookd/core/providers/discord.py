"""Discord interactions and webhook events: Ed25519 over ``<X-Signature-Timestamp><body>``.

Discord deliberately sends bad signatures and removes endpoints that accept them, so PINGs are
answered only after the signature verifies. Interaction PING is ``{"type": 1}`` answered with
``{"type": 1}``; a webhook-events PING is ``{"type": 0}`` answered with 204. A webhook *event* is
also ``type: 1`` but carries an ``event`` object, which is how the two are told apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hookd.core.domain import StaticResponse
from hookd.core.providers.config_fields import ConfigReader
from hookd.core.providers.digests import decode_hex
from hookd.core.providers.freshness import (
    DEFAULT_TOLERANCE_SECONDS,
    outside_window,
)
from hookd.core.providers.model import HandshakeReply, ProviderFacts, Verification
from hookd.core.providers.payload import body_digest_key, dig, text_at
from hookd.core.providers.request import InboundRequest
from hookd.core.providers.rotation import RotatingSecret
from hookd.core.providers.signed_timestamp import read_signed_timestamp

__all__ = ["PROVIDER", "DiscordConfig", "DiscordProvider", "parse_public_key"]

SIGNATURE_HEADER = "X-Signature-Ed25519"
TIMESTAMP_HEADER = "X-Signature-Timestamp"
# Interaction types by number, as the API documents them.
INTERACTION_TYPES = {
    1: "ping",
    2: "application_command",
    3: "message_component",
    4: "application_command_autocomplete",
    5: "modal_submit",
}


def parse_public_key(text: str) -> Ed25519PublicKey:
    """The application's public key as the Developer Portal shows it: 64 hex digits."""
    raw = decode_hex(text)
    if raw is None or len(raw) != 32:
        raise ValueError("must be the 64-hex-digit Ed25519 public key from the Developer Portal")
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True, slots=True)
class DiscordConfig:
    public_key: RotatingSecret[Ed25519PublicKey]
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS


def _is_webhook_event(body: dict[str, Any] | None) -> bool:
    return isinstance(dig(body, "event"), dict) or dig(body, "type") == 0


@dataclass(frozen=True, slots=True)
class DiscordProvider(ProviderFacts):
    name: str = "discord"
    # Webhook events: "respond with 204".
    default_response: ClassVar[StaticResponse] = StaticResponse(204, None, b"")

    def parse_config(self, raw: Mapping[str, Any]) -> DiscordConfig:
        reader = ConfigReader(raw)
        config = DiscordConfig(
            reader.rotating("publicKey", parse_public_key),
            reader.tolerance(DEFAULT_TOLERANCE_SECONDS),
        )
        reader.finish()
        return config

    def verify(self, request: InboundRequest, config: DiscordConfig, now: datetime) -> Verification:
        signed = read_signed_timestamp(request, SIGNATURE_HEADER, TIMESTAMP_HEADER)
        if isinstance(signed, Verification):
            return signed
        signature = decode_hex(signed.signature)
        if signature is None or len(signature) != 64:
            return Verification.malformed_header(SIGNATURE_HEADER, "is not 128 hex digits")
        content = signed.timestamp_bytes + request.body
        for key in config.public_key.active(now):
            try:
                key.verify(signature, content)
            except InvalidSignature:
                continue
            return outside_window(signed.timestamp, now, config.tolerance_seconds) or (
                Verification.accepted()
            )
        return Verification.mismatch()

    def handshake(
        self, request: InboundRequest, config: DiscordConfig, now: datetime
    ) -> HandshakeReply | None:
        body = request.json_body
        kind = dig(body, "type")
        if type(kind) is not int or kind not in (0, 1) or isinstance(dig(body, "event"), dict):
            return None
        if not self.verify(request, config, now).ok:
            return None
        if kind == 0:
            return HandshakeReply(204, None, b"")
        return HandshakeReply(200, "application/json", b'{"type":1}')

    def event_type(self, request: InboundRequest, config: DiscordConfig) -> str | None:
        """``discord.<EVENT_TYPE>`` for webhook events, ``discord.<interaction kind>`` else."""
        body = request.json_body
        if _is_webhook_event(body):
            native = text_at(body, "event", "type")
            return f"discord.{native}" if native else "discord.ping"
        kind = dig(body, "type")
        if isinstance(kind, int) and not isinstance(kind, bool):
            return f"discord.{INTERACTION_TYPES.get(kind, str(kind))}"
        return None

    def dedup_key(self, request: InboundRequest, config: DiscordConfig) -> str | None:
        body = request.json_body
        if _is_webhook_event(body):
            # Webhook events carry no id; a retry repeats the body, event.timestamp included.
            return body_digest_key(request.body)
        return text_at(body, "id")


PROVIDER = DiscordProvider()
