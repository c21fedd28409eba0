"""The configuration of a ``generic-webhook`` source and its parser."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hookd.core.providers.config_fields import ConfigReader
from hookd.core.providers.digests import ALGORITHMS
from hookd.core.providers.freshness import DEFAULT_TOLERANCE_SECONDS
from hookd.core.providers.model import ConfigError
from hookd.core.providers.rotation import RotatingSecret

__all__ = [
    "AUTH_MODES",
    "ENCODINGS",
    "GenericConfig",
    "HmacScheme",
    "parse_generic_config",
    "parse_json_path",
]

AUTH_MODES = ("hmac", "basic", "bearer", "api-key", "none")
ENCODINGS = ("hex", "base64", "base64url")
SECRET_ENCODINGS = ("utf8", "base64", "hex")
PLACEHOLDERS = ("body", "timestamp", "id")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")


@dataclass(frozen=True, slots=True)
class HmacScheme:
    """How the sender signs: ``<prefix><encoded HMAC(secret, template)>`` in one header."""

    algorithm: str
    encoding: str
    signature_header: str
    signature_prefix: str
    # The template split into literal text and placeholder names, e.g. ("timestamp", ".", "body").
    template: tuple[tuple[bool, str], ...]
    timestamp_header: str | None
    id_header: str | None
    tolerance_seconds: int


@dataclass(frozen=True, slots=True)
class GenericConfig:
    auth: str
    secret: RotatingSecret[bytes] | None = None
    hmac_scheme: HmacScheme | None = None
    username: str | None = None
    header_name: str | None = None
    event_type_header: str | None = None
    event_type_path: tuple[str | int, ...] | None = None
    dedup_header: str | None = None
    dedup_path: tuple[str | int, ...] | None = None


def parse_json_path(field: str, text: str) -> tuple[str | int, ...]:
    """``$.data.items.0.id`` or ``data.items.0.id``: dot-separated keys, integers index lists."""
    body = text.removeprefix("$").removeprefix(".")
    steps = body.split(".")
    if not body or any(not step for step in steps):
        raise ConfigError(field, "must be a dot-separated path such as data.object.id")
    return tuple(int(step) if step.isdigit() else step for step in steps)


def _parse_template(text: str) -> tuple[tuple[bool, str], ...]:
    parts: list[tuple[bool, str]] = []
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        if match.group(1) not in PLACEHOLDERS:
            raise ConfigError(
                "signedContent", f"unknown placeholder {match.group(0)}; use {{body}}, "
                "{timestamp} or {id}",
            )  # fmt: skip
        if match.start() > position:
            parts.append((False, text[position : match.start()]))
        parts.append((True, match.group(1)))
        position = match.end()
    if position < len(text):
        parts.append((False, text[position:]))
    if (True, "body") not in parts:
        raise ConfigError("signedContent", "must include {body}")
    return tuple(parts)


def _secret_decoder(encoding: str) -> Callable[[str], bytes]:
    def decode(text: str) -> bytes:
        if encoding == "utf8":
            return text.encode()
        try:
            raw = (
                base64.b64decode(text, validate=True)
                if encoding == "base64"
                else bytes.fromhex(text)
            )
        except (binascii.Error, ValueError):
            raise ValueError(f"is not valid {encoding}") from None
        if not raw:
            raise ValueError("decodes to no bytes")
        return raw

    return decode


def _hmac_scheme(reader: ConfigReader) -> HmacScheme:
    template = _parse_template(reader.text("signedContent", "{body}"))
    names = {name for is_placeholder, name in template if is_placeholder}
    timestamp_header = reader.optional_text("timestampHeader")
    id_header = reader.optional_text("idHeader")
    if ("timestamp" in names) != (timestamp_header is not None):
        raise ConfigError(
            "timestampHeader", "is required exactly when signedContent has {timestamp}"
        )
    if ("id" in names) != (id_header is not None):
        raise ConfigError("idHeader", "is required exactly when signedContent has {id}")
    tolerance = DEFAULT_TOLERANCE_SECONDS
    if timestamp_header is not None:
        tolerance = reader.tolerance(DEFAULT_TOLERANCE_SECONDS)
    return HmacScheme(
        algorithm=reader.choice("algorithm", tuple(ALGORITHMS), default="sha256"),
        encoding=reader.choice("encoding", ENCODINGS, default="hex"),
        signature_header=reader.text("signatureHeader"),
        signature_prefix=reader.text("signaturePrefix", "", allow_empty=True),
        template=template,
        timestamp_header=timestamp_header,
        id_header=id_header,
        tolerance_seconds=tolerance,
    )


def parse_generic_config(raw: Mapping[str, Any]) -> GenericConfig:
    reader = ConfigReader(raw)
    auth = reader.choice("auth", AUTH_MODES)
    secret: RotatingSecret[bytes] | None = None
    scheme = username = header_name = None
    if auth == "hmac":
        encoding = reader.choice("secretEncoding", SECRET_ENCODINGS, default="utf8")
        secret = reader.rotating("secret", _secret_decoder(encoding))
        scheme = _hmac_scheme(reader)
    elif auth != "none":
        secret = reader.rotating("secret", _secret_decoder("utf8"))
    if auth == "basic":
        username = reader.text("username")
        if ":" in username:
            raise ConfigError("username", "must not contain a colon (basic auth splits on it)")
    if auth == "api-key":
        header_name = reader.text("headerName")
    event_header, dedup_header = (
        reader.optional_text(f) for f in ("eventTypeHeader", "dedupHeader")
    )
    event_path, dedup_path = (
        reader.optional_text(f) for f in ("eventTypeJsonPath", "dedupJsonPath")
    )
    config = GenericConfig(
        auth=auth,
        secret=secret,
        hmac_scheme=scheme,
        username=username,
        header_name=header_name,
        event_type_header=event_header,
        event_type_path=parse_json_path("eventTypeJsonPath", event_path) if event_path else None,
        dedup_header=dedup_header,
        dedup_path=parse_json_path("dedupJsonPath", dedup_path) if dedup_path else None,
    )
    reader.finish()
    return config
