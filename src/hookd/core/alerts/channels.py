"""Alert channels: where an alert issue's notices go, and the rules for their configuration.

Pure. A channel has a ``type`` and a ``config`` of that type:

- ``slack``, ``teams``, ``discord`` (:data:`POSTED`): ``{"url": ...}``, the incoming-webhook
  URL a JSON message is posted to. The URL is the credential (anyone who has it can post), so
  it is a secret: sealed at rest, masked in answers (:func:`mask_secret_url`), kept when an
  update sends the masked form back (:func:`kept_secret_url`).
- ``email``: ``{"to": [...]}``, the recipients (the SMTP server is the operator's settings).
- ``webhook``: ``{"url": ..., "secret": ...}``, an endpoint of hookd's own (signed, retried,
  recorded deliveries); the URL and the signing secret live on that endpoint, not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from typing import Any
from urllib.parse import urlsplit

from hookd.core.endpoint_auth import MASK, mask
from hookd.core.ssrf import Network, literal_refusal, parse_address
from hookd.core.urls import MAX_URL_LENGTH

SLACK, TEAMS, DISCORD, EMAIL, WEBHOOK = "slack", "teams", "discord", "email", "webhook"
TYPES = (SLACK, TEAMS, DISCORD, EMAIL, WEBHOOK)
# The services a notice is posted to as JSON, at a URL that is itself the credential.
POSTED = (SLACK, TEAMS, DISCORD)
SERVICE_NAMES = {SLACK: "Slack", TEAMS: "Microsoft Teams", DISCORD: "Discord"}
MAX_NAME_LENGTH = 256
MAX_RECIPIENTS = 50
MAX_ADDRESS_LENGTH = 254  # RFC 5321's path limit, less the angle brackets
CONFIG_FIELDS = {
    SLACK: ("url",),
    TEAMS: ("url",),
    DISCORD: ("url",),
    EMAIL: ("to",),
    WEBHOOK: ("url", "secret"),
}
ALLOW_HINT = " (an operator can allow its network with HOOKD_ALLOW_NETWORKS)"


@dataclass(frozen=True, slots=True)
class AlertChannel:
    """A configured channel. ``config`` is the stored form: ``{"url"}`` for :data:`POSTED`,
    ``{"to"}`` for email, ``{}`` for a webhook channel, whose endpoint is ``endpoint_id``."""

    id: str
    name: str
    type: str
    config: dict[str, Any]
    disabled: bool
    endpoint_id: str | None
    created_at: datetime
    updated_at: datetime


class ChannelConfigError(ValueError):
    """A configuration that breaks a rule; ``field`` names the config field (None: the config)."""

    def __init__(self, detail: str, field: str | None = None, *, code: str = "validation") -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.code = code


def check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ChannelConfigError("name must be a non-empty string", "name")
    if len(name) > MAX_NAME_LENGTH:
        raise ChannelConfigError(f"name is longer than {MAX_NAME_LENGTH} characters", "name")
    return name


def check_fields(channel_type: str, config: Mapping[str, Any]) -> None:
    """Only the fields of ``channel_type`` (unknown ones are refused, so a typo is not lost)."""
    if channel_type not in TYPES:
        raise ChannelConfigError(f"type must be one of {', '.join(TYPES)}", "type")
    allowed = CONFIG_FIELDS[channel_type]
    for key in config:
        if key not in allowed:
            raise ChannelConfigError(
                f"a {channel_type} channel's config has no field {key!r} "
                f"(it takes {', '.join(allowed)})",
                key,
            )


def mask_secret_url(url: str) -> str:
    """A URL whose path is the credential, with the path masked: ``https://hooks.slack.com/****Ab9z``
    (the host shows where it goes; the last four characters tell two URLs apart)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    origin = f"{parts.scheme}://{host}{port}"
    rest = url.split("//", 1)[-1]
    rest = rest[rest.find("/") + 1 :] if "/" in rest else ""
    return f"{origin}/{mask(rest)}"


def kept_secret_url(url: object, stored: str | None) -> object:
    """The URL to save: ``stored`` when ``url`` is its masked form sent back unchanged (a
    value that is not a string is left for :func:`check_posted_url` to refuse)."""
    if not isinstance(url, str):
        return url
    if stored is not None and url == mask_secret_url(stored):
        return stored
    if MASK in url:
        raise ChannelConfigError(
            "url is masked: send the real URL, or the masked URL unchanged to keep the stored one",
            "url",
        )
    return url


def check_posted_url(url: object, allow: tuple[Network, ...]) -> str:
    """A Slack, Teams or Discord incoming-webhook URL: ``https`` (the URL is the credential,
    so it never travels in the clear), or ``http`` only to a literal address the operator
    allows (``HOOKD_ALLOW_NETWORKS``: a local test receiver). The SSRF guard checks the host's
    addresses again when a notice is sent."""
    text = _url_text(url)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ChannelConfigError(f"url scheme must be https, not {scheme or 'missing'!r}", "url")
    host = parts.hostname or ""
    if parts.username is not None or parts.password is not None:
        raise ChannelConfigError("url must not carry a user name or password", "url")
    if scheme == "http":
        address = parse_address(host)
        if address is None or not any(
            address.version == net.version and address in net for net in allow
        ):
            raise ChannelConfigError(
                "url must be https (http only to an address allowed by HOOKD_ALLOW_NETWORKS)",
                "url",
            )
    _check_host(host, allow)
    return text


def check_webhook_url(url: object, allow: tuple[Network, ...]) -> str:
    """A webhook channel's endpoint URL: http or https, as an endpoint's."""
    text = _url_text(url)
    scheme = urlsplit(text).scheme.lower()
    if scheme not in ("http", "https"):
        raise ChannelConfigError(
            f"url scheme must be http or https, not {scheme or 'missing'!r}", "url"
        )
    _check_host(urlsplit(text).hostname or "", allow)
    return text


def _url_text(url: object) -> str:
    if not isinstance(url, str) or not url:
        raise ChannelConfigError("url is required (a string)", "url")
    if len(url) > MAX_URL_LENGTH:
        raise ChannelConfigError(f"url is longer than {MAX_URL_LENGTH} characters", "url")
    if any(ch.isspace() for ch in url):
        raise ChannelConfigError("url contains whitespace", "url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ChannelConfigError(f"url is malformed: {exc}", "url") from None
    if not parts.hostname:
        raise ChannelConfigError("url has no host", "url")
    if port == 0:
        raise ChannelConfigError("url port must be between 1 and 65535", "url")
    return url


def _check_host(host: str, allow: tuple[Network, ...]) -> None:
    reason = literal_refusal(host, allow)
    if reason is not None:
        raise ChannelConfigError(
            f"url host refused: {reason}{ALLOW_HINT}", "url", code="url_not_allowed"
        )


def check_recipients(to: object) -> list[str]:
    """1 to :data:`MAX_RECIPIENTS` email addresses (``name@domain``), duplicates dropped."""
    if not isinstance(to, list) or not to:
        raise ChannelConfigError("to needs at least one email address (a list)", "to")
    if len(to) > MAX_RECIPIENTS:
        raise ChannelConfigError(f"to takes at most {MAX_RECIPIENTS} addresses", "to")
    return list(dict.fromkeys(check_address(value) for value in to))


def check_address(value: object) -> str:
    """One ``name@domain`` address (no display name, no line break, no comment)."""
    if not isinstance(value, str) or not value or len(value) > MAX_ADDRESS_LENGTH:
        raise ChannelConfigError(
            f"each address in to is a string of 1 to {MAX_ADDRESS_LENGTH} characters", "to"
        )
    problem = f"{value!r} is not an email address (name@domain)"
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise ChannelConfigError(problem, "to")
    try:
        address = Address(addr_spec=value)
    except (HeaderParseError, ValueError, IndexError):
        raise ChannelConfigError(problem, "to") from None
    if not address.username or not address.domain or address.addr_spec != value:
        raise ChannelConfigError(problem, "to")
    return value
