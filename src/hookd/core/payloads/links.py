"""Signed, expiring links to a message's payload, as thin webhooks carry them.

A link names the message, the endpoint it was sent to, the payload version it announced and an
expiry, and carries an HMAC-SHA256 over those four under a server key. Whoever holds the
link may fetch that one payload until it expires; nothing else is needed or accepted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

__all__ = ["LinkError", "PayloadLink", "link_signature", "sign_link", "verify_link"]

# Domain separation: this key signs nothing else, but a versioned context keeps it that way.
CONTEXT = b"hookd-payload-link.v1"
PATH = "/api/v1/payload"


class LinkError(ValueError):
    """A link that must not be honoured; ``code`` says why (expired or forged)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class PayloadLink:
    msg_id: str
    endpoint_id: str
    version: int
    expires: int  # Unix seconds
    signature: str  # base64url, no padding

    def url(self, base_url: str) -> str:
        """The link under ``base_url`` (hookd's public URL, without a trailing slash)."""
        query = urlencode(
            {
                "endpoint": self.endpoint_id,
                "version": self.version,
                "expires": self.expires,
                "signature": self.signature,
            }
        )
        return f"{base_url}{PATH}/{quote(self.msg_id, safe='')}?{query}"


def link_signature(key: bytes, msg_id: str, endpoint_id: str, version: int, expires: int) -> str:
    """HMAC-SHA256 over the context and the four fields, newline-separated (ids have none)."""
    fields = (msg_id, endpoint_id, str(version), str(expires))
    content = b"\n".join((CONTEXT, *(field.encode() for field in fields)))
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_link(
    key: bytes, msg_id: str, endpoint_id: str, version: int, expires_at: datetime
) -> PayloadLink:
    expires = int(expires_at.timestamp())
    signature = link_signature(key, msg_id, endpoint_id, version, expires)
    return PayloadLink(msg_id, endpoint_id, version, expires, signature)


def verify_link(key: bytes, link: PayloadLink, now: datetime) -> None:
    """Raise ``LinkError`` unless ``link`` was signed with ``key`` and has not expired."""
    if "\n" in link.msg_id or "\n" in link.endpoint_id:
        raise LinkError("invalid_link", "the link is malformed")
    expected = link_signature(key, link.msg_id, link.endpoint_id, link.version, link.expires)
    if not hmac.compare_digest(expected.encode(), link.signature.encode()):
        raise LinkError("invalid_link", "the link's signature does not match; it was altered")
    if link.expires <= now.timestamp():
        raise LinkError("link_expired", "the link has expired; a new delivery carries a new one")
