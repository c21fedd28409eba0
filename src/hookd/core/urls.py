"""Endpoint URL rules checked when an endpoint is saved.

A host that is a literal address is checked against the SSRF rules here too; names are resolved
and checked by the guard at send time.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from hookd.core.ssrf import Network, literal_refusal

MAX_URL_LENGTH = 65_536
SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an endpoint URL (HTTP or a broker), or None when it can."""
    # Imported here: the broker URL parser shares this module's length limit.
    from hookd.core.destinations import is_destination_url, parse_destination

    if is_destination_url(url):
        try:
            parse_destination(url)
        except ValueError as exc:
            return str(exc)
        return None
    if len(url) > MAX_URL_LENGTH:
        return f"URL is longer than {MAX_URL_LENGTH} characters"
    if any(ch.isspace() for ch in url):
        return "URL contains whitespace"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"URL is malformed: {exc}"
    if parts.scheme.lower() not in SCHEMES:
        return (
            "URL scheme must be http, https or a broker (redis, amqp, nats, kafka, sqs), "
            f"not {parts.scheme or 'missing'!r}"
        )
    if not parts.hostname:
        return "URL has no host"
    if port == 0:
        return "URL port must be between 1 and 65535"
    return None


def url_address(url: str) -> tuple[str, int] | None:
    """The host (lower-case, IPv6 without brackets) and port an http(s) URL connects to; None
    for another scheme or a malformed URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def url_host_refusal(
    url: str, allow: tuple[Network, ...], own: tuple[str, int] | None = None
) -> str | None:
    """Why the SSRF guard would refuse ``url`` (one :func:`url_problem` accepts) whatever its
    host resolves to: its host is a literal address outside ``allow``. None otherwise, and for a
    URL on ``own``, the server's own public host and port (``Settings.own_address``)."""
    from hookd.core.destinations import is_destination_url, parse_destination

    if own is not None and url_address(url) == own:
        return None
    host = parse_destination(url).host if is_destination_url(url) else urlsplit(url).hostname
    reason = literal_refusal(host or "", allow)
    if reason is None:
        return None
    return (
        f"URL host refused: {reason} (an operator can allow its network with HOOKD_ALLOW_NETWORKS)"
    )
