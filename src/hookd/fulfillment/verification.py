"""Checks that a fulfillment call really comes from the configured platform.

Dialogflow sends basic auth or fixed headers; a hookd ``sync call`` (or any other caller)
can send Standard Webhooks signatures. Each check is a small object with one method.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from hookd.core import signing

__all__ = [
    "BasicAuth",
    "HeaderToken",
    "StandardWebhooksSignature",
    "VerificationFailed",
    "Verifier",
]


class VerificationFailed(Exception):
    """The call carries no valid credentials; the app answers 401."""


class Verifier(Protocol):
    """Raise :class:`VerificationFailed` unless the call is authentic."""

    def check(self, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        """``headers`` have lower-case names; ``body`` is the raw bytes as received."""
        ...


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


@dataclass(frozen=True, slots=True)
class BasicAuth:
    """HTTP basic auth, as Dialogflow ES and CX send it when a username is configured."""

    username: str
    password: str = field(repr=False)

    def check(self, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        scheme, _, encoded = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            raise VerificationFailed("basic authentication is required")
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise VerificationFailed("the basic credentials are not valid base64") from exc
        username, _, password = decoded.partition(":")
        # Both compared, always, so the timing does not tell which one was wrong.
        user_ok = _same(username, self.username)
        password_ok = _same(password, self.password)
        if not (user_ok and password_ok):
            raise VerificationFailed("the basic credentials do not match")


@dataclass(frozen=True, slots=True)
class HeaderToken:
    """A fixed secret in a header: ``Authorization: Bearer <token>`` by default.

    Set ``scheme=""`` to compare the whole header value (e.g. ``X-Api-Key: <token>``).
    """

    token: str = field(repr=False)
    header: str = "authorization"
    scheme: str = "Bearer"

    def check(self, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        expected = f"{self.scheme} {self.token}" if self.scheme else self.token
        if not _same(headers.get(self.header.lower(), ""), expected):
            raise VerificationFailed(f"the {self.header} header does not hold the expected token")


@dataclass(frozen=True, slots=True, init=False)
class StandardWebhooksSignature:
    """A Standard Webhooks signature (``webhook-*`` or Svix's ``svix-*`` headers).

    Several secrets may be given so a rotation needs no downtime.
    """

    keys: tuple[signing.VerifyingKey, ...] = field(repr=False)
    tolerance_seconds: int | None

    def __init__(
        self,
        secrets: Sequence[str],
        *,
        tolerance_seconds: int | None = signing.DEFAULT_TOLERANCE_SECONDS,
    ) -> None:
        if isinstance(secrets, str):
            secrets = [secrets]
        if not secrets:
            raise ValueError("at least one secret is needed")
        # Parsed now, so a bad secret fails at start-up and not on the first call.
        keys = tuple(signing.parse_verifying_key(secret) for secret in secrets)
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "tolerance_seconds", tolerance_seconds)

    def check(self, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        prefix = "webhook" if "webhook-signature" in headers else "svix"
        msg_id = headers.get(f"{prefix}-id")
        timestamp = headers.get(f"{prefix}-timestamp")
        signature = headers.get(f"{prefix}-signature")
        if not (msg_id and timestamp and signature):
            raise VerificationFailed(
                "webhook-id, webhook-timestamp and webhook-signature are required"
            )
        try:
            signing.verify(
                list(self.keys),
                msg_id,
                timestamp,
                signature,
                body,
                now=now,
                tolerance_seconds=self.tolerance_seconds,
            )
        except signing.SignatureError as exc:
            raise VerificationFailed(str(exc)) from exc
