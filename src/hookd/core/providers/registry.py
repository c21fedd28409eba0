"""Every inbound provider by the name a source's ``provider`` field uses."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from hookd.core.providers import (
    discord,
    generic,
    github,
    gitlab,
    meta,
    microsoft_graph,
    paddle,
    shopify,
    slack,
    standard,
    stripe,
    twilio,
    twitch,
    zoom,
)
from hookd.core.providers.model import Provider

__all__ = ["PROVIDERS"]

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
)

PROVIDERS: Mapping[str, Provider[Any]] = MappingProxyType({p.name: p for p in _ALL})
