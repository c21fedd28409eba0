"""Secrets in API answers: URL passwords and source config secrets, masked and kept.

Pure. Every answer shows a secret as :func:`~hookd.core.endpoint_auth.mask` does (``****`` and,
for long secrets, their last four characters); only the explicit secret routes show them in
clear. An update that sends a masked value back unchanged keeps the stored secret; any other
masked value is refused (:class:`MaskedSecretError`), so a mask is never stored as a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from hookd.core.endpoint_auth import MASK, mask

# The config fields of a source that hold secrets (``ConfigReader.rotating`` and ``secret``:
# the field and its ``previous`` form). Public keys (``publicKey``) are not secret.
SOURCE_SECRET_FIELDS = ("secret", "previousSecret", "verifyToken", "previousVerifyToken")


class MaskedSecretError(ValueError):
    """A masked value that is not the mask of the stored secret."""


def _password_span(url: str) -> tuple[int, int] | None:
    """Where the password of ``url``'s userinfo is, as written (None: it has none)."""
    if "@" not in url:
        return None
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return None
    userinfo, at, _ = netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return None
    start = url.index("//") + 2 + userinfo.index(":") + 1
    return start, start + len(userinfo) - userinfo.index(":") - 1


def has_password(url: str) -> bool:
    return _password_span(url) is not None


def mask_url(url: str) -> str:
    """``url`` with the password of its userinfo masked (``amqp://guest:****@host``)."""
    span = _password_span(url)
    if span is None:
        return url
    start, end = span
    return url[:start] + mask(unquote(url[start:end])) + url[end:]


def kept_url(url: str, stored: str | None) -> str:
    """The URL to save: ``stored`` when ``url`` is its masked form sent back unchanged."""
    if stored is not None and url != stored and url == mask_url(stored):
        return stored
    span = _password_span(url)
    if span is not None and unquote(url[span[0] : span[1]]).startswith(MASK):
        raise MaskedSecretError(
            "the URL's password is masked: send the real password, or the masked URL "
            "unchanged to keep the stored one"
        )
    return url


def mask_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A source's config with its secret fields masked."""
    return {
        key: mask(value) if key in SOURCE_SECRET_FIELDS and isinstance(value, str) else value
        for key, value in config.items()
    }


def config_secrets(config: Mapping[str, Any]) -> dict[str, Any]:
    """Only the secret fields of a source's config, in clear (the explicit secret route)."""
    return {key: config[key] for key in SOURCE_SECRET_FIELDS if key in config}


def kept_config(config: Mapping[str, Any], stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """The config to save: each secret field sent back masked keeps its stored value.

    Raises :class:`MaskedSecretError` (its ``args[1]`` names the field) for a masked value that
    is not the mask of the stored one.
    """
    kept = dict(config)
    for key in SOURCE_SECRET_FIELDS:
        value = kept.get(key)
        if not isinstance(value, str) or not value.startswith(MASK):
            continue
        old = None if stored is None else stored.get(key)
        if isinstance(old, str) and value == mask(old) and value != old:
            kept[key] = old
        else:
            raise MaskedSecretError(
                f"{key} is masked: send the real secret, or the masked value unchanged to "
                "keep the stored one",
                key,
            )
    return kept
