"""Payload shapes: which bytes an endpoint receives for a message, and with which headers.

An endpoint gets the message's ``payload`` unless it is pinned to a ``version`` the message
also provides; a thin endpoint gets ``{id, type, timestamp, url}`` instead, where ``url`` is a
signed link to the payload it would otherwise have received.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson

from hookd.core.domain import Endpoint, Message
from hookd.core.payloads.links import sign_link

__all__ = [
    "LinkSigning",
    "Shaped",
    "payload_of_version",
    "selected_version",
    "shape",
    "thin_body",
]

JSON_CONTENT_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class Shaped:
    """What one delivery sends: the body, its payload version, and the ingested extras."""

    body: bytes
    version: int
    content_type: str | None
    forwarded: dict[str, str] | None


def payload_of_version(message: Message, version: int) -> bytes | None:
    """The exact bytes of one version; None when the message lacks it or was expunged."""
    if version == message.version:
        return message.payload
    return (message.payload_versions or {}).get(version)


def selected_version(message: Message, pinned: int | None) -> int:
    """The version for an endpoint pinned to ``pinned``: that one if provided, else the latest."""
    if pinned is not None and pinned in (message.payload_versions or {}):
        return pinned
    return message.version


def thin_body(message: Message, url: str) -> bytes:
    """The thin notification: enough to identify the event and fetch its payload."""
    return orjson.dumps(
        {"id": message.id, "type": message.event_type, "timestamp": message.created_at, "url": url},
        option=orjson.OPT_UTC_Z,
    )


@dataclass(frozen=True, slots=True)
class LinkSigning:
    """How thin links are made: the server key, hookd's public URL and the links' expiry."""

    key: bytes
    base_url: str
    expires_at: datetime


def shape(message: Message, endpoint: Endpoint, links: LinkSigning) -> Shaped:
    """The delivery for ``endpoint``.

    A thin body is hookd's own JSON, so an ingested message's original Content-Type and
    forwarded headers (which describe the original body) are not sent with it.
    """
    version = selected_version(message, endpoint.version)
    if endpoint.thin:
        link = sign_link(links.key, message.id, endpoint.id, version, links.expires_at)
        body = thin_body(message, link.url(links.base_url))
        return Shaped(body, version, JSON_CONTENT_TYPE, None)
    payload = payload_of_version(message, version) or b""
    return Shaped(payload, version, message.content_type, message.headers)
