"""Slack: ``X-Slack-Signature: v0=<hex>`` over ``v0:<X-Slack-Request-Timestamp>:<body>``.

The Events API posts JSON; slash commands and interactivity post forms (interactivity as a
JSON ``payload`` field). All are signed the same way over the raw bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from hookd.core.providers.model import HandshakeReply, ProviderFacts, Verification
from hookd.core.providers.payload import form_pairs, json_object, text_at
from hookd.core.providers.request import InboundRequest
from hookd.core.providers.signed_timestamp import V0HmacConfig, parse_v0_config, verify_v0_hmac

__all__ = ["PROVIDER", "SlackConfig", "SlackProvider"]

SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"


SlackConfig = V0HmacConfig  # the signing secret and the replay window


def _form_payload(request: InboundRequest) -> dict[str, Any] | None:
    """Interactivity's ``payload`` form field, parsed."""
    pairs = form_pairs(request.body)
    payload = dict(pairs or ()).get("payload")
    return json_object(payload.encode()) if payload else None


@dataclass(frozen=True, slots=True)
class SlackProvider(ProviderFacts):
    name: str = "slack"

    def parse_config(self, raw: Mapping[str, Any]) -> SlackConfig:
        return parse_v0_config(raw)

    def verify(self, request: InboundRequest, config: SlackConfig, now: datetime) -> Verification:
        return verify_v0_hmac(request, config, now, SIGNATURE_HEADER, TIMESTAMP_HEADER)

    def handshake(
        self, request: InboundRequest, config: SlackConfig, now: datetime
    ) -> HandshakeReply | None:
        """Answer a signed ``url_verification`` with its challenge, as JSON."""
        body = request.json_body
        if text_at(body, "type") != "url_verification":
            return None
        challenge = text_at(body, "challenge")
        if challenge is None or not self.verify(request, config, now).ok:
            return None
        return HandshakeReply(200, "application/json", orjson.dumps({"challenge": challenge}))

    def event_type(self, request: InboundRequest, config: SlackConfig) -> str | None:
        """``slack.<event.type>`` for Events API callbacks, else the envelope or payload type."""
        body = request.json_body
        if body is not None:
            if text_at(body, "type") == "event_callback":
                native = text_at(body, "event", "type")
            else:
                native = text_at(body, "type")
            return f"slack.{native}" if native else None
        payload = _form_payload(request)
        if payload is not None:
            native = text_at(payload, "type")
            return f"slack.{native}" if native else None
        form = dict(form_pairs(request.body) or ())
        return "slack.slash_command" if form.get("command") else None

    def dedup_key(self, request: InboundRequest, config: SlackConfig) -> str | None:
        # Only the Events API retries, and it keeps event_id across retries.
        return text_at(request.json_body, "event_id")


PROVIDER = SlackProvider()
