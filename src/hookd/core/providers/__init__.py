"""Inbound verification: pure checks of what third parties POST to ``/in/{source}``.

The HTTP layer builds an :class:`InboundRequest`, parses the source once with
:func:`parse_verifier`, then calls :func:`handshake_reply`, :func:`verify_request` and
:func:`describe_request`. ``PROVIDERS`` maps each provider name to its implementation.
"""

from __future__ import annotations

from hookd.core.providers.allowlist import ip_allowed, parse_cidrs
from hookd.core.providers.model import ConfigError, HandshakeReply, Provider, Verification
from hookd.core.providers.registry import PROVIDERS
from hookd.core.providers.request import Headers, InboundRequest
from hookd.core.providers.verifier import (
    RequestDescription,
    Verifier,
    describe_request,
    handshake_reply,
    parse_verifier,
    verify_request,
)

__all__ = [
    "PROVIDERS",
    "ConfigError",
    "HandshakeReply",
    "Headers",
    "InboundRequest",
    "Provider",
    "RequestDescription",
    "Verification",
    "Verifier",
    "describe_request",
    "handshake_reply",
    "ip_allowed",
    "parse_cidrs",
    "parse_verifier",
    "verify_request",
]
