"""What of an inbound request is kept: the credentials it presented are not.

Every request to a source is recorded (headers, URL, query) and an accepted one is forwarded
with its headers. Some providers present the source's secret itself rather than a signature
made with it: GitLab's ``X-Gitlab-Token``, the generic source's bearer, basic and API-key
modes, Meta's ``hub.verify_token`` in the query. Those values are replaced by ``REDACTED`` in
the record (and such headers are not forwarded), so no secret reaches the database in the clear.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[redacted]"
# Headers that carry credentials whatever the provider.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
MIN_SECRET_LENGTH = 6  # shorter values are too common to look for


def config_secrets(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The secret strings of a source's configuration (``secret``, ``previousSecret``,
    ``verifyToken``, ...): every string field whose name ends with secret or token."""
    found = []
    for name, value in config.items():
        lower = name.lower()
        if (
            isinstance(value, str)
            and lower.endswith(("secret", "token"))  # not secretEncoding, ...ExpiresAt
            and len(value) >= MIN_SECRET_LENGTH
        ):
            found.append(value)
    return tuple(found)


def redact_text(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_headers(
    pairs: tuple[tuple[str, str], ...], secrets: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    """``pairs`` with credential headers and any value holding a secret redacted."""
    if not any(
        name.lower() in CREDENTIAL_HEADERS or any(s in value for s in secrets)
        for name, value in pairs
    ):
        return pairs
    return tuple(
        (
            name,
            REDACTED
            if name.lower() in CREDENTIAL_HEADERS or any(s in value for s in secrets)
            else value,
        )
        for name, value in pairs
    )
