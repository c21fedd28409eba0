"""Meta (WhatsApp Cloud API, Instagram, Messenger).

POSTs carry ``X-Hub-Signature-256`` over the body, keyed with the app secret. Subscribing
sends ``GET ?hub.mode=subscribe&hub.verify_token=...&hub.challenge=...``: echo the challenge
when the verify token matches, answer 403 when it does not.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from hookd.core.providers.challenge import echo_reply, refusal
from hookd.core.providers.config_fields import ConfigReader
from hookd.core.providers.hub_signature import verify_hub_signature
from hookd.core.providers.model import HandshakeReply, ProviderFacts, Verification
from hookd.core.providers.payload import body_digest_key, dig, text_at
from hookd.core.providers.request import InboundRequest
from hookd.core.providers.rotation import RotatingSecret

__all__ = ["PROVIDER", "MetaConfig", "MetaProvider"]


@dataclass(frozen=True, slots=True)
class MetaConfig:
    secret: RotatingSecret[str]  # the app secret
    verify_token: RotatingSecret[str]


@dataclass(frozen=True, slots=True)
class MetaProvider(ProviderFacts):
    name: str = "meta"
    methods: ClassVar[frozenset[str]] = frozenset({"GET", "POST"})  # GET: hub.challenge

    def parse_config(self, raw: Mapping[str, Any]) -> MetaConfig:
        reader = ConfigReader(raw)
        config = MetaConfig(reader.secret(), reader.secret("verifyToken"))
        reader.finish()
        return config

    def verify(self, request: InboundRequest, config: MetaConfig, now: datetime) -> Verification:
        return verify_hub_signature(request, config.secret, now)

    def handshake(
        self, request: InboundRequest, config: MetaConfig, now: datetime
    ) -> HandshakeReply | None:
        if request.method.upper() != "GET" or request.query_value("hub.mode") is None:
            return None
        if request.query_value("hub.mode") != "subscribe":
            return refusal(400, "malformed_handshake", "hub.mode must be subscribe")
        token = (request.query_value("hub.verify_token") or "").encode("utf-8", "surrogatepass")
        known_tokens = [known.encode() for known in config.verify_token.active(now)]
        if not any(hmac.compare_digest(token, known) for known in known_tokens):
            return refusal(403, "token_mismatch", "hub.verify_token does not match")
        return echo_reply(request.query_value("hub.challenge") or "")

    def event_type(self, request: InboundRequest, config: MetaConfig) -> str | None:
        """``meta.<object>`` plus ``.<field>`` of the first change, e.g. ``...account.messages``."""
        body = request.json_body
        kind = text_at(body, "object")
        if kind is None:
            return None
        field = text_at(body, "entry", 0, "changes", 0, "field")
        return f"meta.{kind}.{field}" if field else f"meta.{kind}"

    def dedup_key(self, request: InboundRequest, config: MetaConfig) -> str | None:
        """The id of the only message in the body, else the body's digest.

        Meta batches; keying a batch on one of its ids could drop the others, so a batch is
        deduplicated only when its exact bytes repeat.
        """
        body = request.json_body
        entries = dig(body, "entry")
        if not isinstance(entries, list) or len(entries) != 1:
            return body_digest_key(request.body)
        changes = dig(entries, 0, "changes")
        if isinstance(changes, list) and len(changes) == 1:
            value = dig(changes, 0, "value")
            messages, statuses = dig(value, "messages"), dig(value, "statuses")
            if isinstance(messages, list) and len(messages) == 1 and not statuses:
                return text_at(messages, 0, "id") or body_digest_key(request.body)
            if isinstance(statuses, list) and len(statuses) == 1 and not messages:
                # One message is sent, delivered and read: each status is its own event.
                status_id, status = text_at(statuses, 0, "id"), text_at(statuses, 0, "status")
                if status_id and status:
                    return f"{status_id}:{status}"
        messaging = dig(entries, 0, "messaging")
        if isinstance(messaging, list) and len(messaging) == 1:
            mid = text_at(messaging, 0, "message", "mid")
            if mid:
                return mid
        return body_digest_key(request.body)


PROVIDER = MetaProvider()
