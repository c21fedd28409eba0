"""Zoom: ``x-zm-signature: v0=<hex>`` over ``v0:<x-zm-request-timestamp>:<body>``.

Validating the endpoint (``endpoint.url_validation``) asks for ``HMAC(secret, plainToken)``,
the same keyed function that signs requests. Answering it unsigned would let anyone obtain a
signature for a string of their choice, so the validation request must verify first and the
token must look like one; a signed validation whose token does not is refused with 400.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from hookd.core.providers.challenge import MALFORMED_CHALLENGE, refusal
from hookd.core.providers.digests import hmac_digest
from hookd.core.providers.model import HandshakeReply, ProviderFacts, Verification
from hookd.core.providers.payload import body_digest_key, dig, text_at
from hookd.core.providers.request import InboundRequest
from hookd.core.providers.signed_timestamp import V0HmacConfig, parse_v0_config, verify_v0_hmac

__all__ = ["PROVIDER", "ZoomConfig", "ZoomProvider"]

SIGNATURE_HEADER = "x-zm-signature"
TIMESTAMP_HEADER = "x-zm-request-timestamp"
VALIDATION_EVENT = "endpoint.url_validation"
_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,128}")


ZoomConfig = V0HmacConfig  # the signing secret and the replay window


@dataclass(frozen=True, slots=True)
class ZoomProvider(ProviderFacts):
    name: str = "zoom"

    def parse_config(self, raw: Mapping[str, Any]) -> ZoomConfig:
        return parse_v0_config(raw)

    def verify(self, request: InboundRequest, config: ZoomConfig, now: datetime) -> Verification:
        return verify_v0_hmac(request, config, now, SIGNATURE_HEADER, TIMESTAMP_HEADER)

    def handshake(
        self, request: InboundRequest, config: ZoomConfig, now: datetime
    ) -> HandshakeReply | None:
        body = request.json_body
        if text_at(body, "event") != VALIDATION_EVENT:
            return None
        if not self.verify(request, config, now).ok:
            return None  # verify_request refuses it (401) with its reason
        plain = dig(body, "payload", "plainToken")
        if not isinstance(plain, str) or not _PLAIN_TOKEN.fullmatch(plain):
            # Signed, but not a token: refused, never stored as an event and forwarded.
            detail = "payload.plainToken is not 1 to 128 letters, digits, '_' or '-'"
            return refusal(400, MALFORMED_CHALLENGE, detail)
        encrypted = hmac_digest(config.secret.current.encode(), plain.encode()).hex()
        reply = {"plainToken": plain, "encryptedToken": encrypted}
        return HandshakeReply(200, "application/json", orjson.dumps(reply))

    def event_type(self, request: InboundRequest, config: ZoomConfig) -> str | None:
        native = text_at(request.json_body, "event")
        return f"zoom.{native}" if native else None

    def dedup_key(self, request: InboundRequest, config: ZoomConfig) -> str | None:
        # Zoom sends no event id; a retry repeats the body, whose event_ts tells events apart.
        return body_digest_key(request.body)


PROVIDER = ZoomProvider()
