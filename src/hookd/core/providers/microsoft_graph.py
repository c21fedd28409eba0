"""Microsoft Graph change notifications: no HMAC, a shared ``clientState`` per subscription.

Creating a subscription POSTs ``?validationToken=...``, to be echoed as ``text/plain``.
Every notification in ``value[]`` must carry the expected ``clientState``; one bad item fails
the whole request, so a forged notification cannot ride along with genuine ones.
Rich notifications' ``validationTokens`` (JWTs) need Microsoft's signing keys, fetched over
the network, and are therefore not checked here.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from hookd.core.domain import StaticResponse
from hookd.core.providers.challenge import echo_reply
from hookd.core.providers.config_fields import ConfigReader
from hookd.core.providers.model import HandshakeReply, ProviderFacts, Verification
from hookd.core.providers.payload import dig, text_at
from hookd.core.providers.request import InboundRequest
from hookd.core.providers.rotation import RotatingSecret

__all__ = ["PROVIDER", "MicrosoftGraphConfig", "MicrosoftGraphProvider"]


@dataclass(frozen=True, slots=True)
class MicrosoftGraphConfig:
    secret: RotatingSecret[str]  # the subscription's clientState


@dataclass(frozen=True, slots=True)
class MicrosoftGraphProvider(ProviderFacts):
    name: str = "microsoft-graph"
    # Graph documents 202 Accepted.
    default_response: ClassVar[StaticResponse] = StaticResponse(202, None, b"")

    def parse_config(self, raw: Mapping[str, Any]) -> MicrosoftGraphConfig:
        reader = ConfigReader(raw)
        config = MicrosoftGraphConfig(reader.secret())
        reader.finish()
        return config

    def verify(
        self, request: InboundRequest, config: MicrosoftGraphConfig, now: datetime
    ) -> Verification:
        notifications = dig(request.json_body, "value")
        if not isinstance(notifications, list) or not notifications:
            return Verification.rejected(
                "malformed_body", "body is not a JSON object with a non-empty value array"
            )
        known = [secret.encode() for secret in config.secret.active(now)]
        for index, item in enumerate(notifications):
            state = dig(item, "clientState")
            if not isinstance(state, str):
                return Verification.rejected(
                    "missing_client_state", f"value[{index}] has no clientState"
                )
            presented = state.encode("utf-8", "surrogatepass")
            if not any(hmac.compare_digest(presented, secret) for secret in known):
                return Verification.rejected(
                    "client_state_mismatch", f"value[{index}].clientState does not match"
                )
        return Verification.accepted()

    def handshake(
        self, request: InboundRequest, config: MicrosoftGraphConfig, now: datetime
    ) -> HandshakeReply | None:
        """Echo ``validationToken`` (already URL-decoded in ``query``) as ``text/plain``."""
        token = request.query_value("validationToken")
        return echo_reply(token) if token is not None else None

    def event_type(self, request: InboundRequest, config: MicrosoftGraphConfig) -> str | None:
        """``microsoft-graph.<changeType>`` or ``.<lifecycleEvent>`` of the first notification."""
        first = dig(request.json_body, "value", 0)
        native = text_at(first, "lifecycleEvent") or text_at(first, "changeType")
        return f"microsoft-graph.{native}" if native else None

    def dedup_key(self, request: InboundRequest, config: MicrosoftGraphConfig) -> str | None:
        # Graph sends no id, and two updates of one resource produce identical bodies, so
        # neither an id nor the body's digest can tell a redelivery from a new change.
        return None


PROVIDER = MicrosoftGraphProvider()
