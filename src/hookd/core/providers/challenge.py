"""Echoing a provider's challenge back safely.

Meta, Twitch and Microsoft Graph ask the receiver to echo a value taken from the request. An
unauthenticated echo is a reflection vector, so only short printable tokens are echoed, always
as ``text/plain`` with ``nosniff``. A refused handshake is answered like every other ``/in/``
error, JSON ``{"code", "detail"}`` (providers ignore the body).
"""

from __future__ import annotations

import orjson

from hookd.core.providers.model import HandshakeReply, Verification

__all__ = ["MALFORMED_CHALLENGE", "MAX_CHALLENGE_LENGTH", "echo_reply", "is_echoable", "refusal"]

MAX_CHALLENGE_LENGTH = 1024
NOSNIFF = (("X-Content-Type-Options", "nosniff"),)
MALFORMED_CHALLENGE = "malformed_challenge"


def is_echoable(value: str) -> bool:
    """Printable ASCII without angle brackets, at most :data:`MAX_CHALLENGE_LENGTH` long."""
    return (
        0 < len(value) <= MAX_CHALLENGE_LENGTH
        and value.isascii()
        and value.isprintable()
        and "<" not in value
        and ">" not in value
    )


def echo_reply(value: str) -> HandshakeReply:
    """200 with ``value`` as the body, or 400 when it is not safe to echo."""
    if not is_echoable(value):
        return refusal(400, MALFORMED_CHALLENGE, "challenge is not a short printable token")
    return HandshakeReply(200, "text/plain; charset=utf-8", value.encode(), NOSNIFF)


def refusal(status: int, code: str, detail: str) -> HandshakeReply:
    body = orjson.dumps({"code": code, "detail": detail})
    verdict = Verification.rejected(code, detail)
    return HandshakeReply(status, "application/json", body, NOSNIFF, verdict)
