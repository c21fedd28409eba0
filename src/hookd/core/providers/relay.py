"""``relay``: the source behind ``hookd listen`` (docs/listen.md), which verifies nothing.

A relay's URL (``/relay/{token}``, and any path under it) takes any method: each request is
stored as it came and delivered to the relay's listeners, whose local server checks the
provider's signature itself (the relay keeps the exact body and every header for that). Its
config is empty; the event type shown is the JSON body's ``type`` when it has one (Stripe,
Standard Webhooks), only for display and ``filterTypes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from hookd.core.domain import StaticResponse
from hookd.core.providers.config_fields import ConfigReader
from hookd.core.providers.model import HandshakeReply, Verification
from hookd.core.providers.request import InboundRequest

__all__ = ["PROVIDER", "RELAY", "RelayConfig", "RelayProvider"]

RELAY = "relay"
MAX_EVENT_TYPE = 256


@dataclass(frozen=True, slots=True)
class RelayConfig:
    """A relay has no settings of its own (its listeners bring theirs)."""


class RelayProvider:
    """The ``relay`` type as a provider: every request passes, to be checked locally."""

    __slots__ = ()
    name: ClassVar[str] = RELAY
    methods: ClassVar[frozenset[str]] = frozenset(
        {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    )
    # What a relay answers when no listener is connected: the request is kept (docs/listen.md).
    default_response: ClassVar[StaticResponse] = StaticResponse(
        202, "application/json", b'{"stored":true}'
    )

    def parse_config(self, raw: Mapping[str, Any]) -> RelayConfig:
        ConfigReader(raw).finish()
        return RelayConfig()

    def verify(self, request: InboundRequest, config: RelayConfig, now: datetime) -> Verification:
        return Verification.accepted("relayed to the listeners, who verify it")

    def handshake(
        self, request: InboundRequest, config: RelayConfig, now: datetime
    ) -> HandshakeReply | None:
        return None

    def event_type(self, request: InboundRequest, config: RelayConfig) -> str | None:
        body = request.json_body
        if isinstance(body, Mapping):
            kind = body.get("type")
            if isinstance(kind, str) and 0 < len(kind) <= MAX_EVENT_TYPE:
                return kind
        return None

    def dedup_key(self, request: InboundRequest, config: RelayConfig) -> str | None:
        return None


PROVIDER = RelayProvider()
