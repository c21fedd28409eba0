"""Standard Webhooks signatures: ``v1`` (HMAC-SHA256) and ``v1a`` (Ed25519).

The signed content is ``{msg_id}.{timestamp}.{body}`` over the exact bytes sent. Secrets are
``whsec_<base64>`` (symmetric) and ``whsk_<base64(private || public)>`` (asymmetric; the public
half is shared as ``whpk_<base64>``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "DEFAULT_TOLERANCE_SECONDS",
    "Ed25519Key",
    "HmacKey",
    "SignatureError",
    "SigningKey",
    "VerifyingKey",
    "generate_ed25519_secret",
    "generate_hmac_secret",
    "parse_signing_key",
    "parse_verifying_key",
    "parsed_signing_key",
    "sign",
    "signature_header",
    "signed_content",
    "verify",
]

HMAC_PREFIX = "whsec_"
ED25519_SECRET_PREFIX = "whsk_"  # noqa: S105 - a key prefix
ED25519_PUBLIC_PREFIX = "whpk_"
MIN_HMAC_KEY_BYTES = 24
MAX_HMAC_KEY_BYTES = 64
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    """A secret, key or signature is malformed or does not match."""


@dataclass(frozen=True, slots=True)
class HmacKey:
    """A symmetric ``whsec_`` key; signs and verifies ``v1``."""

    raw: bytes

    @property
    def secret(self) -> str:
        return HMAC_PREFIX + base64.b64encode(self.raw).decode()


@dataclass(frozen=True, slots=True)
class Ed25519Key:
    """An asymmetric ``whsk_`` key; signs ``v1a``."""

    private: bytes  # 32-byte seed

    @property
    def public(self) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.private).public_key().public_bytes_raw()

    @property
    def secret(self) -> str:
        return ED25519_SECRET_PREFIX + base64.b64encode(self.private + self.public).decode()

    @property
    def public_secret(self) -> str:
        return ED25519_PUBLIC_PREFIX + base64.b64encode(self.public).decode()


@dataclass(frozen=True, slots=True)
class Ed25519PublicKeyRef:
    """A ``whpk_`` key; verifies ``v1a`` only."""

    public: bytes


SigningKey = HmacKey | Ed25519Key
VerifyingKey = HmacKey | Ed25519Key | Ed25519PublicKeyRef


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("key is not valid base64") from exc


def generate_hmac_secret() -> str:
    """A fresh ``whsec_`` secret of 24 random bytes (as Svix generates)."""
    return HmacKey(os.urandom(MIN_HMAC_KEY_BYTES)).secret


def generate_ed25519_secret() -> str:
    """A fresh ``whsk_`` key pair."""
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    return Ed25519Key(seed).secret


def generate_secret_like(secret: str) -> str:
    """A fresh secret of the same type as ``secret`` (a rotation keeps the key type: consumers of
    a ``whsk_`` endpoint verify with its public key and cannot check an HMAC signature)."""
    if secret.startswith(ED25519_SECRET_PREFIX):
        return generate_ed25519_secret()
    return generate_hmac_secret()


def parse_signing_key(secret: str) -> SigningKey:
    """Parse a ``whsec_`` or ``whsk_`` secret (a bare base64 string counts as ``whsec_``)."""
    if secret.startswith(ED25519_SECRET_PREFIX):
        raw = _b64decode(secret[len(ED25519_SECRET_PREFIX) :])
        if len(raw) not in (32, 64):
            raise SignatureError("a whsk_ key holds 64 bytes (private and public halves)")
        key = Ed25519Key(raw[:32])
        if len(raw) == 64 and raw[32:] != key.public:
            raise SignatureError("the public half of the whsk_ key does not match its private half")
        return key
    body = secret[len(HMAC_PREFIX) :] if secret.startswith(HMAC_PREFIX) else secret
    raw = _b64decode(body)
    if not MIN_HMAC_KEY_BYTES <= len(raw) <= MAX_HMAC_KEY_BYTES:
        raise SignatureError(
            f"a whsec_ secret holds {MIN_HMAC_KEY_BYTES} to {MAX_HMAC_KEY_BYTES} bytes, "
            f"this one holds {len(raw)}"
        )
    return HmacKey(raw)


@lru_cache(maxsize=4096)
def parsed_signing_key(secret: str) -> SigningKey:
    """:func:`parse_signing_key`, remembered: a sender signs with the same few keys all day."""
    return parse_signing_key(secret)


def parse_verifying_key(secret: str) -> VerifyingKey:
    """Parse any key that can verify: ``whsec_``, ``whsk_`` or ``whpk_``."""
    if secret.startswith(ED25519_PUBLIC_PREFIX):
        raw = _b64decode(secret[len(ED25519_PUBLIC_PREFIX) :])
        if len(raw) != 32:
            raise SignatureError("a whpk_ key holds 32 bytes")
        return Ed25519PublicKeyRef(raw)
    return parse_signing_key(secret)


def signed_content(msg_id: str, timestamp: int, body: bytes) -> bytes:
    """The exact bytes that are signed: ``{id}.{timestamp}.{body}``."""
    return f"{msg_id}.{timestamp}.".encode() + body


def sign(key: SigningKey, msg_id: str, timestamp: int, body: bytes) -> str:
    """One signature entry, ``v1,<b64>`` or ``v1a,<b64>``."""
    content = signed_content(msg_id, timestamp, body)
    if isinstance(key, HmacKey):
        return "v1," + base64.b64encode(hmac.digest(key.raw, content, "sha256")).decode()
    signature = Ed25519PrivateKey.from_private_bytes(key.private).sign(content)
    return "v1a," + base64.b64encode(signature).decode()


def signature_header(keys: list[SigningKey], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one space-separated entry per valid key."""
    return " ".join(sign(key, msg_id, timestamp, body) for key in keys)


def _entry_matches(key: VerifyingKey, version: str, value: bytes, content: bytes) -> bool:
    if version == "v1" and isinstance(key, HmacKey):
        expected = hmac.new(key.raw, content, hashlib.sha256).digest()
        return hmac.compare_digest(expected, value)
    if version == "v1a" and not isinstance(key, HmacKey):
        try:
            Ed25519PublicKey.from_public_bytes(key.public).verify(value, content)
        except (InvalidSignature, ValueError):
            return False
        return True
    return False


def verify(
    keys: list[VerifyingKey],
    msg_id: str,
    timestamp: str,
    signature: str,
    body: bytes,
    *,
    now: datetime,
    tolerance_seconds: int | None = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Check a Standard Webhooks signature; raise :class:`SignatureError` if it does not hold.

    ``tolerance_seconds=None`` skips the timestamp window (for replaying stored requests).
    """
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise SignatureError("webhook-timestamp is not a Unix time in seconds")
    ts = int(timestamp)
    if tolerance_seconds is not None:
        skew = now.timestamp() - ts
        if skew > tolerance_seconds:
            raise SignatureError("webhook-timestamp is too old")
        if skew < -tolerance_seconds:
            raise SignatureError("webhook-timestamp is too new")
    content = signed_content(msg_id, ts, body)
    for entry in signature.split():
        version, _, encoded = entry.partition(",")
        try:
            value = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if any(_entry_matches(key, version, value, content) for key in keys):
            return
    raise SignatureError("no signature matches")
