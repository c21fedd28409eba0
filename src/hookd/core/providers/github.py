"""GitHub: ``X-Hub-Signature-256`` over the body; ``ping`` answered as a handshake.

Nothing is timestamped, so replays are stopped only by deduplicating ``X-GitHub-Delivery``
(which stays the same when GitHub redelivers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hookd.core.providers.config_fields import ConfigReader
from hookd.core.providers.hub_signature import verify_hub_signature
from hookd.core.providers.model import HandshakeReply, ProviderFacts, Verification
from hookd.core.providers.request import InboundRequest
from hookd.core.providers.rotation import RotatingSecret

__all__ = ["PROVIDER", "GithubConfig", "GithubProvider"]

EVENT_HEADER = "X-GitHub-Event"
DELIVERY_HEADER = "X-GitHub-Delivery"


@dataclass(frozen=True, slots=True)
class GithubConfig:
    secret: RotatingSecret[str]
    # The SHA-1 header is still sent but SHA-1 HMACs are legacy; accept them only on request.
    allow_sha1: bool = False


@dataclass(frozen=True, slots=True)
class GithubProvider(ProviderFacts):
    name: str = "github"

    def parse_config(self, raw: Mapping[str, Any]) -> GithubConfig:
        reader = ConfigReader(raw)
        config = GithubConfig(reader.secret(), reader.boolean("allowSha1", default=False))
        reader.finish()
        return config

    def verify(self, request: InboundRequest, config: GithubConfig, now: datetime) -> Verification:
        return verify_hub_signature(request, config.secret, now, allow_sha1=config.allow_sha1)

    def handshake(
        self, request: InboundRequest, config: GithubConfig, now: datetime
    ) -> HandshakeReply | None:
        """A signed ``ping`` (sent when a hook is created) is acknowledged, not forwarded."""
        if request.headers.get(EVENT_HEADER) != "ping":
            return None
        if not self.verify(request, config, now).ok:
            return None
        return HandshakeReply(200, "application/json", b'{"ok":true}')

    def event_type(self, request: InboundRequest, config: GithubConfig) -> str | None:
        native = (request.headers.get(EVENT_HEADER) or "").strip()
        return f"github.{native}" if native else None

    def dedup_key(self, request: InboundRequest, config: GithubConfig) -> str | None:
        return (request.headers.get(DELIVERY_HEADER) or "").strip() or None


PROVIDER = GithubProvider()
