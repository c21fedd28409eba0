"""HMAC digests, their text encodings, and constant-time matching."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable

__all__ = [
    "ALGORITHMS",
    "any_match",
    "decode_base64",
    "decode_hex",
    "hmac_digest",
    "secret_hmacs",
]

ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def hmac_digest(key: bytes, content: bytes, algorithm: str = "sha256") -> bytes:
    return hmac.new(key, content, ALGORITHMS[algorithm]).digest()


def decode_hex(text: str) -> bytes | None:
    """Hex in either case, or ``None``; comparing bytes makes the case irrelevant."""
    try:
        return bytes.fromhex(text.strip())
    except ValueError:
        return None


def decode_base64(text: str, *, urlsafe: bool = False) -> bytes | None:
    stripped = text.strip()
    if urlsafe:
        stripped = stripped.replace("-", "+").replace("_", "/")
    # Some senders drop the padding; restore it rather than reject a genuine signature.
    stripped += "=" * (-len(stripped) % 4)
    try:
        return base64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError):
        return None


def any_match(expected: Iterable[bytes], presented: Iterable[bytes | None]) -> bool:
    """Whether any presented signature equals any expected digest, compared in constant time."""
    wanted = list(expected)
    return any(
        hmac.compare_digest(digest, candidate)
        for candidate in presented
        if candidate is not None
        for digest in wanted
    )


def secret_hmacs(secrets: Iterable[str], content: bytes, algorithm: str = "sha256") -> list[bytes]:
    """The digest of ``content`` under each secret, keyed with the secret's UTF-8 bytes."""
    return [hmac_digest(secret.encode(), content, algorithm) for secret in secrets]
