"""GitLab: the plain ``X-Gitlab-Token`` secret, or the newer Standard Webhooks signing token.

``mode`` chooses: ``token`` (default) compares ``X-Gitlab-Token`` in constant time;
``signing-token`` verifies ``webhook-*`` headers signed with a ``whsec_`` signing token.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hookd.core import signing
from hookd.core.providers.config_fields import ConfigReader
from hookd.core.providers.freshness import DEFAULT_TOLERANCE_SECONDS
from hookd.core.providers.model import ConfigError, HandshakeReply, ProviderFacts, Verification
from hookd.core.providers.payload import text_at
from hookd.core.providers.request import InboundRequest
from hookd.core.providers.rotation import RotatingSecret
from hookd.core.providers.standard import verify_standard_webhook

__all__ = ["PROVIDER", "GitlabConfig", "GitlabProvider"]

TOKEN_HEADER = "X-Gitlab-Token"  # noqa: S105 - a header name, not a secret
EVENT_HEADER = "X-Gitlab-Event"
MODES = ("token", "signing-token")


@dataclass(frozen=True, slots=True)
class GitlabConfig:
    mode: str
    token: RotatingSecret[str] | None = None
    signing_key: RotatingSecret[signing.VerifyingKey] | None = None
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS


@dataclass(frozen=True, slots=True)
class GitlabProvider(ProviderFacts):
    name: str = "gitlab"

    def parse_config(self, raw: Mapping[str, Any]) -> GitlabConfig:
        reader = ConfigReader(raw)
        mode = reader.choice("mode", MODES, default="token")
        if mode == "token":
            config = GitlabConfig(mode, token=reader.secret())
        else:
            key = reader.rotating("secret", signing.parse_verifying_key)
            if not isinstance(key.current, signing.HmacKey):
                raise ConfigError("secret", "a GitLab signing token is a whsec_ secret")
            config = GitlabConfig(
                mode, signing_key=key, tolerance_seconds=reader.tolerance(DEFAULT_TOLERANCE_SECONDS)
            )
        reader.finish()
        return config

    def verify(self, request: InboundRequest, config: GitlabConfig, now: datetime) -> Verification:
        if config.signing_key is not None:
            keys = config.signing_key.active(now)
            return verify_standard_webhook(request, keys, now, config.tolerance_seconds)
        token = request.headers.get(TOKEN_HEADER)
        if token is None:
            return Verification.missing_header(TOKEN_HEADER)
        presented = token.strip().encode("utf-8", "surrogatepass")
        secrets = config.token.active(now) if config.token is not None else ()
        if any(hmac.compare_digest(presented, secret.encode()) for secret in secrets):
            return Verification.accepted()
        return Verification.rejected("token_mismatch", f"{TOKEN_HEADER} does not match")

    def handshake(
        self, request: InboundRequest, config: GitlabConfig, now: datetime
    ) -> HandshakeReply | None:
        return None

    def event_type(self, request: InboundRequest, config: GitlabConfig) -> str | None:
        """``gitlab.<object_kind>`` (``push``, ``merge_request``, ...), else from the header.

        ``X-Gitlab-Event: Merge Request Hook`` becomes ``merge_request`` so both sources agree.
        """
        body = request.json_body
        kind = text_at(body, "object_kind") or text_at(body, "event_name")
        if kind is None:
            header = (request.headers.get(EVENT_HEADER) or "").strip()
            header = header.removesuffix(" Hook").strip()
            kind = "_".join(header.lower().split()) or None
        return f"gitlab.{kind}" if kind else None

    def dedup_key(self, request: InboundRequest, config: GitlabConfig) -> str | None:
        # Idempotency-Key (GitLab 17.4+) survives retries; the event UUID is the older fallback.
        for header in ("Idempotency-Key", "webhook-id", "X-Gitlab-Event-UUID"):
            value = (request.headers.get(header) or "").strip()
            if value:
                return value
        return None


PROVIDER = GitlabProvider()
