"""Echoing a provider's challenge back safely.

Meta, Twitch and Microsoft Graph ask the receiver to echo a value taken from the request. An
unauthenticated echo is a reflection vector, so only short printable tokens are echoed, always
as ``text/plain`` with ``nosniff``.
"""

from __future__ import annotations

from hookd.core.providers.model import HandshakeReply

__all__ = ["MAX_CHALLENGE_LENGTH", "echo_reply", "is_echoable", "refusal"]

MAX_CHALLENGE_LENGTH = 1024
NOSNIFF = (("X-Content-Type-Options", "nosniff"),)


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
        return refusal(400, "challenge is not a short printable token")
    return HandshakeReply(200, "text/plain; charset=utf-8", value.encode(), NOSNIFF)


def refusal(status: int, detail: str) -> HandshakeReply:
    return HandshakeReply(status, "text/plain; charset=utf-8", detail.encode(), NOSNIFF)
