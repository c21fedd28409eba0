"""HTTP/1.1 on the wire, for the delivery sender: a destination URL parsed once, a request's head
built as bytes, a response body decoded.

Pure code; the sockets are in ``engine/http/connection.py`` and ``engine/http/pool.py``.
"""

from __future__ import annotations

import base64
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, unquote, urlsplit

from hookd.core.ssrf import parse_address

DEFAULT_PORTS = {"http": 80, "https": 443}
# Percent-encoding leaves these as they are (and existing %XX escapes intact).
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
# RFC 9110 token: a header name or a method.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Control characters other than tab: line breaks would split a header, the rest are invalid.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# Headers the sender writes itself; a caller's are dropped rather than sent twice.
_FRAMING = frozenset({"host", "content-length", "transfer-encoding", "connection"})
ACCEPT_ENCODING = "gzip, deflate"
# Methods whose requests carry a Content-Length even when the body is empty.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True, slots=True)
class HttpTarget:
    """Where a request goes: what to connect to and what to put in its request line."""

    host: str  # a name or an address (IPv6 without brackets)
    port: int
    tls: bool
    host_header: str
    target: str  # path and query, percent-encoded
    literal: bool  # the host is an IP address: no name resolution
    authorization: str | None = None  # Basic credentials from the URL's userinfo


def parse_http_target(url: str) -> HttpTarget:
    """Parse an http(s) URL; ValueError says what is wrong with it."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"unsupported URL scheme {parts.scheme or 'missing'!r}")
    host = parts.hostname
    if not host:
        raise ValueError("URL has no host")
    port = parts.port  # raises ValueError when out of range
    if port is None:
        port = DEFAULT_PORTS[scheme]
    elif port == 0:
        raise ValueError("URL port must be between 1 and 65535")
    literal = parse_address(host) is not None
    if not literal and not host.isascii():
        host = host.encode("idna").decode("ascii")
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port == DEFAULT_PORTS[scheme] else f"{shown}:{port}"
    target = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=_QUERY_SAFE)
    authorization = None
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(credentials.encode()).decode("ascii")
    return HttpTarget(host, port, scheme == "https", host_header, target, literal, authorization)


def request_head(
    method: str,
    destination: HttpTarget,
    headers: Mapping[str, str],
    body_length: int,
    *,
    user_agent: str,
) -> bytes:
    """The request line and headers, ending with the blank line.

    The caller's headers win over the defaults (User-Agent, Accept, Accept-Encoding and the
    URL's credentials), compared without case; framing headers are always the sender's own.
    ValueError for a method or header that would not be one token or one line on the wire.
    """
    if not _is_token(method):
        raise ValueError(f"invalid HTTP method {method!r}")
    lines = [f"{method} {destination.target} HTTP/1.1\r\nHost: {destination.host_header}\r\n"]
    given = set()
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in _FRAMING:
            continue
        if not _is_token(name):
            raise ValueError(f"invalid header name {name!r}")
        given.add(lowered)
        lines.append(f"{name}: {value}\r\n")
    if _CONTROL.search("".join(headers.values())) is not None:
        raise ValueError("a header value has a line break or another control character in it")
    if "user-agent" not in given:
        lines.append(f"User-Agent: {user_agent}\r\n")
    if "accept" not in given:
        lines.append("Accept: */*\r\n")
    if "accept-encoding" not in given:
        lines.append(f"Accept-Encoding: {ACCEPT_ENCODING}\r\n")
    if destination.authorization is not None and "authorization" not in given:
        lines.append(f"Authorization: {destination.authorization}\r\n")
    if body_length or method in _BODY_METHODS:
        lines.append(f"Content-Length: {body_length}\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("utf-8")


@lru_cache(maxsize=4096)  # the same few header names recur on every request
def _is_token(text: str) -> bool:
    return _TOKEN.fullmatch(text) is not None


def fully_decoded(body: bytes, content_encoding: str, limit: int) -> bytes | None:
    """The body with its gzip or deflate coding undone, or None when the coding is another,
    the body does not decode to its end, or it decodes to more than ``limit`` bytes."""
    if content_encoding.strip().lower() not in ("gzip", "x-gzip", "deflate"):
        return None
    for wbits in (47, -zlib.MAX_WBITS):
        decoder = zlib.decompressobj(wbits)
        try:
            decoded = decoder.decompress(body, limit + 1)
        except zlib.error:
            continue
        complete = decoder.eof and not decoder.unconsumed_tail and not decoder.unused_data
        return decoded if complete and len(decoded) <= limit else None
    return None


def decoded_body(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """The body with a gzip or deflate coding undone (at most ``limit`` bytes of it).

    A cut-short or undecodable body comes back as far as it decodes, or as it came.
    """
    coding = (content_encoding or "").strip().lower()
    if not body or coding not in ("gzip", "x-gzip", "deflate"):
        return body
    # 47: a zlib or gzip header, detected; raw deflate (no header) is tried second.
    for wbits in (47, -zlib.MAX_WBITS):
        try:
            return zlib.decompressobj(wbits).decompress(body, limit)
        except zlib.error:
            continue
    return body
