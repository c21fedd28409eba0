"""Secrets at rest: every secret column is sealed with AES-256-GCM under the main key.

A sealed value is text: ``hks1.<key id>.<base64url(nonce + ciphertext + tag)>``. ``hks1`` is
the format's version, the key id (8 hex digits of a SHA-256 of the key) tells which main key
sealed it, so ``hookd rotate-main-key`` finds the values still under an old key, and the
associated data is the column's name, so a value copied into another column does not open.
Text columns hold it as it is, JSON columns as a JSON string, binary columns as its ASCII bytes.

Values written before hookd sealed anything (plain text, or a JSON object or list) still read
as they are; start-up seals them (``store.sealed_columns``). A value that carries the prefix
but whose key is not configured, or that fails authentication, raises ``SealError``: never
silent garbage.

The process's keyring is installed once at start (``install``); opening is cached per sealed
value (a value never changes meaning), so the hot paths (the worker's claim rounds, the
config cache) pay a dictionary lookup, not a decryption, for an endpoint they have seen.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "hks1."
PREFIX_BYTES = PREFIX.encode()
KEY_BYTES = 32
NONCE_BYTES = 12
MAX_OPENED = 50_000  # cached openings; the cache is emptied when full


class SealError(Exception):
    """A sealed value that cannot be opened: its key is not configured, or it is not authentic."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"hookd main key id\0" + key).hexdigest()[:8]


def parse_main_keys(text: str) -> list[bytes]:
    """``HOOKD_MAIN_KEY`` (or the key file): base64url keys of 32 bytes, separated by commas
    or new lines; the first seals, every one opens."""
    keys = []
    for part in text.replace("\n", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            key = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != KEY_BYTES:
            raise ValueError("a main key is 32 bytes in base64url (43 characters)")
        keys.append(key)
    if not keys:
        raise ValueError("no main key given")
    return keys


def new_main_key() -> str:
    """A fresh main key in the form ``parse_main_keys`` reads."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).rstrip(b"=").decode()


class Keyring:
    """The configured main keys: the first seals, all of them open."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("a keyring needs a key")
        self._ciphers = {key_id(key): AESGCM(key) for key in keys}
        self.primary_id = key_id(keys[0])
        self._primary = self._ciphers[self.primary_id]
        self._opened: dict[str, tuple[str, Any]] = {}

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    def seal(self, plain: bytes, purpose: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._primary.encrypt(nonce, plain, _aad(purpose, self.primary_id))
        body = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()
        return f"{PREFIX}{self.primary_id}.{body}"

    def open(self, token: str, purpose: str) -> bytes:
        kid, body = _split(token)
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise SealError(
                f"a stored secret ({purpose}) was sealed with main key {kid}, which is not "
                f"configured (HOOKD_MAIN_KEY has {', '.join(self._ciphers)})"
            )
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(purpose, kid))
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise SealError(
                f"a stored secret ({purpose}) does not open with main key {kid}: "
                "the value or the key is not the one it was sealed with"
            ) from exc

    def opened(self, token: str, purpose: str, decode: Any) -> Any:
        """``decode(open(token))``, cached per token (the caller must not change it)."""
        hit = self._opened.get(token)
        if hit is not None and hit[0] == purpose:
            return hit[1]
        value = decode(self.open(token, purpose))
        if len(self._opened) >= MAX_OPENED:
            self._opened.clear()
        self._opened[token] = (purpose, value)
        return value


def _aad(purpose: str, kid: str) -> bytes:
    return f"{PREFIX}{kid}.{purpose}".encode()


def _split(token: str) -> tuple[str, str]:
    kid, dot, body = token[len(PREFIX) :].partition(".")
    if not token.startswith(PREFIX) or not dot or len(kid) != 8:
        raise SealError("a stored secret is not in the sealed format")
    return kid, body


def sealed_key_id(value: object) -> str | None:
    """The key id a stored value is sealed with; ``None`` for a plain (unsealed) value."""
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value)
        if not value.startswith(PREFIX_BYTES):
            return None
        value = value.decode("ascii", "replace")
    if isinstance(value, str) and value.startswith(PREFIX):
        return _split(value)[0]
    return None


_keyring: Keyring | None = None


def install(keyring: Keyring) -> None:
    """The process's keyring (``hookd serve`` and the other commands, at start)."""
    global _keyring
    _keyring = keyring


def current() -> Keyring:
    """The installed keyring. A process that installed none (a test using the store directly)
    gets a random key of its own: secrets are never written in the clear."""
    global _keyring
    if _keyring is None:
        _keyring = Keyring([os.urandom(KEY_BYTES)])
    return _keyring


def seal_text(value: str, purpose: str) -> str:
    return current().seal(value.encode(), purpose)


def open_text(stored: str, purpose: str) -> str:
    if not stored.startswith(PREFIX):
        return stored  # written before secrets were sealed
    text: str = current().opened(stored, purpose, bytes.decode)
    return text


def seal_json(value: Any, purpose: str) -> str | None:
    """A JSON column's value, sealed (``None`` stays ``None``: there is nothing to hide)."""
    return None if value is None else current().seal(orjson.dumps(value), purpose)


def open_json(stored: Any, purpose: str) -> Any:
    if not isinstance(stored, str):
        return stored  # NULL, or written before secrets were sealed
    return current().opened(stored, purpose, orjson.loads)


def seal_bytes(value: bytes, purpose: str) -> bytes:
    return current().seal(value, purpose).encode("ascii")


def open_bytes(stored: bytes, purpose: str) -> bytes:
    stored = bytes(stored)
    if not stored.startswith(PREFIX_BYTES):
        return stored
    return current().open(stored.decode("ascii"), purpose)


def reseal(stored: Any, kind: str, purpose: str) -> Any:
    """``stored`` (plain or sealed under any configured key) sealed under the primary key:
    ``kind`` is the column's form, ``"text"``, ``"json"`` or ``"bytes"``."""
    if kind == "text":
        return seal_text(open_text(stored, purpose), purpose)
    if kind == "json":
        return seal_json(open_json(stored, purpose), purpose)
    return seal_bytes(open_bytes(stored, purpose), purpose)
