"""A source's verifier: its provider, that provider's config and its IP allowlist.

This is the seam the HTTP layer calls, in this order for each request to ``/in/{source}``:

1. :func:`handshake_reply` - when it returns a reply, send it as is and stop;
2. :func:`verify_request` - when not ``ok``, answer 401 (400 for ``malformed_body``) with
   ``code`` and ``reason``;
3. :func:`describe_request` - event type and dedup key for the stored message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from hookd.core.http_wire import fully_decoded
from hookd.core.providers.allowlist import Network, ip_allowed, parse_cidrs
from hookd.core.providers.body_shape import body_refusal
from hookd.core.providers.model import ConfigError, HandshakeReply, Provider, Verification
from hookd.core.providers.registry import PROVIDERS
from hookd.core.providers.request import InboundRequest

__all__ = [
    "ALLOWLIST_FIELD",
    "RequestDescription",
    "Verifier",
    "content_view",
    "describe_request",
    "handshake_reply",
    "parse_verifier",
    "verify_request",
]

# The one field every provider accepts; the provider's own parser never sees it.
ALLOWLIST_FIELD = "allowedIps"
# Dedup keys end up in an indexed column; a longer "id" is garbage or an attack.
MAX_DEDUP_KEY_LENGTH = 256
MAX_EVENT_TYPE_LENGTH = 256
# A compressed body is read decoded up to this size (a bomb stops here and is read as it came).
MAX_DECODED_BODY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Verifier:
    provider: Provider[Any]
    config: Any
    allowed_networks: tuple[Network, ...] = ()


@dataclass(frozen=True, slots=True)
class RequestDescription:
    event_type: str | None
    dedup_key: str | None


def parse_verifier(provider_name: str, raw: Mapping[str, Any]) -> Verifier:
    """Validate a source's config for ``provider_name``; raise :class:`ConfigError` if invalid."""
    provider = PROVIDERS.get(provider_name)
    if provider is None:
        raise ConfigError("provider", f"unknown provider {provider_name!r}")
    if not isinstance(raw, Mapping):
        raise ConfigError("config", "must be a JSON object")
    networks = parse_cidrs(raw.get(ALLOWLIST_FIELD), ALLOWLIST_FIELD)
    rest = {key: value for key, value in raw.items() if key != ALLOWLIST_FIELD}
    return Verifier(provider, provider.parse_config(rest), networks)


def _ip_refusal(request: InboundRequest) -> Verification:
    return Verification.rejected(
        "ip_not_allowed", f"remote address {request.remote_ip or 'unknown'} is not allowed"
    )


def verify_request(verifier: Verifier, request: InboundRequest, now: datetime) -> Verification:
    """The allowlist first (cheapest, and no signature work for strangers), then the provider,
    then the body's shape (a signed body the provider never sends is ``malformed_body``)."""
    if not ip_allowed(request.remote_ip, verifier.allowed_networks):
        return _ip_refusal(request)
    verdict = verifier.provider.verify(request, verifier.config, now)
    if verdict.ok:
        return body_refusal(verifier.provider.name, content_view(request)) or verdict
    return verdict


def content_view(request: InboundRequest) -> InboundRequest:
    """The request as its provider's payload reads: a gzip or deflate body decoded (signatures
    cover the bytes as sent, so verification takes ``request`` itself). A body that does not
    decode whole within ``MAX_DECODED_BODY_BYTES`` is read as it came."""
    coding = request.headers.get("content-encoding")
    if not coding:
        return request
    decoded = fully_decoded(request.body, coding, MAX_DECODED_BODY_BYTES)
    return request if decoded is None else replace(request, body=decoded)


def handshake_reply(
    verifier: Verifier, request: InboundRequest, now: datetime
) -> HandshakeReply | None:
    """The provider's handshake answer, or ``None`` to go on with :func:`verify_request`.

    A stranger outside the allowlist gets ``None``, so verification then refuses it with a reason.
    """
    if not ip_allowed(request.remote_ip, verifier.allowed_networks):
        return None
    return verifier.provider.handshake(request, verifier.config, now)


def _bounded(value: str | None, limit: int) -> str | None:
    return value if value is not None and 0 < len(value) <= limit else None


def describe_request(verifier: Verifier, request: InboundRequest) -> RequestDescription:
    """Event type (``<provider>.<native type>``) and dedup key; call after verification."""
    provider, config = verifier.provider, verifier.config
    request = content_view(request)
    return RequestDescription(
        event_type=_bounded(provider.event_type(request, config), MAX_EVENT_TYPE_LENGTH),
        dedup_key=_bounded(provider.dedup_key(request, config), MAX_DEDUP_KEY_LENGTH),
    )
