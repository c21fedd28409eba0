"""``generic-webhook``: a configurable HMAC, basic auth, a bearer token or an API-key header.

The fields are parsed in :mod:`hookd.core.providers.generic_config` and listed in
docs/inbound-providers.md.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from hookd.core.providers.digests import any_match, decode_base64, decode_hex, hmac_digest
from hookd.core.providers.freshness import outside_window, parse_unix_seconds
from hookd.core.providers.generic_config import GenericConfig, HmacScheme, parse_generic_config
from hookd.core.providers.model import HandshakeReply, ProviderFacts, Verification
from hookd.core.providers.payload import text_at
from hookd.core.providers.request import InboundRequest, header_bytes

__all__ = ["PROVIDER", "GenericWebhookProvider"]

AUTHORIZATION = "Authorization"


def _decode_signature(encoding: str, text: str) -> bytes | None:
    if encoding == "hex":
        return decode_hex(text)
    return decode_base64(text, urlsafe=encoding == "base64url")


def _verify_hmac(
    request: InboundRequest, scheme: HmacScheme, keys: tuple[bytes, ...], now: datetime
) -> Verification:
    header = request.headers.get(scheme.signature_header)
    if header is None:
        return Verification.missing_header(scheme.signature_header)
    header = header.strip()
    if not header.startswith(scheme.signature_prefix):
        return Verification.malformed_header(
            scheme.signature_header, f"does not start with {scheme.signature_prefix!r}"
        )
    signature = _decode_signature(scheme.encoding, header[len(scheme.signature_prefix) :])
    timestamp: int | None = None
    values: dict[str, bytes] = {"body": request.body}
    for name, header_name in (("timestamp", scheme.timestamp_header), ("id", scheme.id_header)):
        if header_name is None:
            continue
        value = request.headers.get(header_name)
        if value is None:
            return Verification.missing_header(header_name)
        values[name] = header_bytes(value.strip())
        if name == "timestamp":
            timestamp = parse_unix_seconds(value)
            if timestamp is None:
                return Verification.malformed_header(header_name, "is not Unix seconds")
    content = b"".join(
        values[text] if is_placeholder else text.encode()
        for is_placeholder, text in scheme.template
    )
    expected = [hmac_digest(key, content, scheme.algorithm) for key in keys]
    if not any_match(expected, [signature]):
        return Verification.mismatch()
    if timestamp is not None:
        stale = outside_window(timestamp, now, scheme.tolerance_seconds)
        if stale is not None:
            return stale
    return Verification.accepted()


def _credential(request: InboundRequest, config: GenericConfig) -> tuple[str, bytes | None]:
    """The header that should carry the credential, and the bytes it presents."""
    if config.auth == "api-key" and config.header_name is not None:
        value = request.headers.get(config.header_name)
        return config.header_name, None if value is None else header_bytes(value.strip())
    value = request.headers.get(AUTHORIZATION)
    if value is None:
        return AUTHORIZATION, None
    scheme, _, token = value.strip().partition(" ")
    if config.auth == "bearer":
        return AUTHORIZATION, header_bytes(token.strip()) if scheme.lower() == "bearer" else b""
    if scheme.lower() != "basic":
        return AUTHORIZATION, b""
    try:
        return AUTHORIZATION, base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return AUTHORIZATION, b""


def _verify_credential(
    request: InboundRequest, config: GenericConfig, keys: tuple[bytes, ...]
) -> Verification:
    header, presented = _credential(request, config)
    if presented is None:
        return Verification.missing_header(header)
    if config.auth == "basic":
        prefix = (config.username or "").encode() + b":"
        expected = [prefix + key for key in keys]
    else:
        expected = list(keys)
    if any(hmac.compare_digest(presented, candidate) for candidate in expected):
        return Verification.accepted()
    return Verification.rejected("credential_mismatch", f"credentials in {header} do not match")


@dataclass(frozen=True, slots=True)
class GenericWebhookProvider(ProviderFacts):
    name: str = "generic-webhook"
    methods: ClassVar[frozenset[str]] = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})

    def parse_config(self, raw: Mapping[str, Any]) -> GenericConfig:
        return parse_generic_config(raw)

    def verify(self, request: InboundRequest, config: GenericConfig, now: datetime) -> Verification:
        if config.auth == "none":
            return Verification.accepted("source accepts unauthenticated requests")
        keys = config.secret.active(now) if config.secret is not None else ()
        if config.hmac_scheme is not None:
            return _verify_hmac(request, config.hmac_scheme, keys, now)
        return _verify_credential(request, config, keys)

    def handshake(
        self, request: InboundRequest, config: GenericConfig, now: datetime
    ) -> HandshakeReply | None:
        return None

    def event_type(self, request: InboundRequest, config: GenericConfig) -> str | None:
        native = self._lookup(request, config.event_type_header, config.event_type_path)
        return f"{self.name}.{native}" if native else None

    def dedup_key(self, request: InboundRequest, config: GenericConfig) -> str | None:
        return self._lookup(request, config.dedup_header, config.dedup_path)

    @staticmethod
    def _lookup(
        request: InboundRequest, header: str | None, path: tuple[str | int, ...] | None
    ) -> str | None:
        if header is not None:
            value = (request.headers.get(header) or "").strip()
            if value:
                return value
        if path is not None:
            return text_at(request.json_body, *path)
        return None


PROVIDER = GenericWebhookProvider()
