"""Builders shared by the inbound provider tests (pytest puts this folder on sys.path)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from hookd.core.providers import (
    Headers,
    InboundRequest,
    Verification,
    Verifier,
    parse_verifier,
    verify_request,
)

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
URL = "https://hooks.example.com/in/src_1"


def inbound(
    body: bytes = b"",
    headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    *,
    method: str = "POST",
    url: str = URL,
    remote_ip: str | None = "203.0.113.7",
) -> InboundRequest:
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    parts = urlsplit(url)
    query = tuple(parse_qsl(parts.query, keep_blank_values=True))
    return InboundRequest(method, url, parts.path, query, Headers(pairs), body, remote_ip)


def source(provider: str, **raw: Any) -> Verifier:
    return parse_verifier(provider, raw)


def check(src: Verifier, request: InboundRequest, now: datetime = NOW) -> Verification:
    return verify_request(src, request, now)


def later(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def rotation(old: str, *, expires_in: float, field: str = "secret") -> dict[str, str]:
    """The config fields that keep ``old`` valid for ``expires_in`` seconds after NOW."""
    title = field[0].upper() + field[1:]
    return {
        f"previous{title}": old,
        f"previous{title}ExpiresAt": (NOW + timedelta(seconds=expires_in)).isoformat(),
    }
