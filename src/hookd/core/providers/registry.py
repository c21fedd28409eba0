"""Every inbound provider by the name a source's ``provider`` field uses."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from hookd.core.domain import StaticResponse
from hookd.core.providers import (
    discord,
    generic,
    github,
    gitlab,
    meta,
    microsoft_graph,
    paddle,
    relay,
    request_bin,
    shopify,
    slack,
    standard,
    stripe,
    twilio,
    twitch,
    zoom,
)
from hookd.core.providers.model import JSON_OK, POST_ONLY, Provider

__all__ = ["PROVIDERS", "SOURCE_TYPES", "provider_methods", "provider_response"]

_ALL: tuple[Provider[Any], ...] = (
    generic.PROVIDER,
    standard.STANDARD_WEBHOOKS,
    standard.SVIX,
    stripe.PROVIDER,
    github.PROVIDER,
    gitlab.PROVIDER,
    shopify.PROVIDER,
    slack.PROVIDER,
    twilio.PROVIDER,
    meta.PROVIDER,
    paddle.PROVIDER,
    zoom.PROVIDER,
    discord.PROVIDER,
    twitch.PROVIDER,
    microsoft_graph.PROVIDER,
    request_bin.PROVIDER,  # a request bin: captures, verifies nothing (docs/bins.md)
    relay.PROVIDER,  # hookd listen's relay: its listeners verify (docs/listen.md)
)

PROVIDERS: Mapping[str, Provider[Any]] = MappingProxyType({p.name: p for p in _ALL})
# Svix source types that are no provider's name, by the provider that verifies them.
SOURCE_TYPES: Mapping[str, str] = MappingProxyType(
    {source_type: standard.SVIX.name for source_type in standard.SVIX_SIGNED_TYPES}
)


def provider_methods(name: str) -> frozenset[str]:
    """The HTTP methods provider ``name`` calls with."""
    provider = PROVIDERS.get(name)
    return POST_ONLY if provider is None else provider.methods


def provider_response(name: str) -> StaticResponse:
    """What provider ``name`` expects back when the source configures no response."""
    provider = PROVIDERS.get(name)
    return JSON_OK if provider is None else provider.default_response
