"""Twilio: ``X-Twilio-Signature`` = base64 HMAC of the URL followed by the sorted form params.

Form posts sign ``url + name1 + value1 + ...`` (names sorted, each name's distinct values
sorted). JSON posts carry ``bodySHA256=<hex sha256 of body>`` in the query instead and sign the
URL alone. Twilio is inconsistent about the port, so, like its SDK, both the URL without a port
and with the scheme's default port are tried. HMAC-SHA1 keyed with the auth token is the
default; a ``X-Twilio-Webhooks-Signature-Settings`` header may ask for HMAC-SHA256.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from hookd.core.domain import StaticResponse
from hookd.core.providers.config_fields import ConfigReader
from hookd.core.providers.digests import any_match, decode_base64, secret_hmacs
from hookd.core.providers.model import HandshakeReply, ProviderFacts, Verification
from hookd.core.providers.payload import form_pairs, text_at
from hookd.core.providers.request import InboundRequest
from hookd.core.providers.rotation import RotatingSecret

__all__ = ["PROVIDER", "TwilioConfig", "TwilioProvider", "signed_urls"]

SIGNATURE_HEADER = "X-Twilio-Signature"
SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
ALGORITHMS = {"HMAC_SHA1": "sha1", "HMAC_SHA256": "sha256"}
DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True, slots=True)
class TwilioConfig:
    secret: RotatingSecret[str]  # the account auth token (or the webhook shared key)


def signed_urls(url: str) -> list[str]:
    """The URL as given, without its port, and with the scheme's default port when it has none."""
    urls = [url]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return urls
    host = parts.netloc.rpartition("@")[2]
    userinfo = parts.netloc[: len(parts.netloc) - len(host)]
    bare_host = host if port is None else host[: host.rfind(":")]
    default = DEFAULT_PORTS.get(parts.scheme.lower())
    variants = [bare_host]
    if port is not None:
        variants.append(f"{bare_host}:{port}")
    elif default is not None:
        variants.append(f"{bare_host}:{default}")
    for variant in variants:
        candidate = urlunsplit(parts._replace(netloc=userinfo + variant))
        if candidate not in urls:
            urls.append(candidate)
    return urls


def _algorithm(request: InboundRequest) -> str | None:
    settings = request.headers.get(SETTINGS_HEADER) or ""
    for part in settings.split(","):
        name, _, value = part.partition("=")
        if name.strip() == "algorithm" and value.strip():
            return ALGORITHMS.get(value.strip().upper())
    return "sha1"


def _params_suffix(pairs: list[tuple[str, str]]) -> str:
    grouped: dict[str, set[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, set()).add(value)
    return "".join(name + value for name in sorted(grouped) for value in sorted(grouped[name]))


@dataclass(frozen=True, slots=True)
class TwilioProvider(ProviderFacts):
    name: str = "twilio"
    # Twilio parses the answer as TwiML: an empty <Response> does nothing and logs no warning.
    default_response: ClassVar[StaticResponse] = StaticResponse(
        200, "text/xml", b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    )

    def parse_config(self, raw: Mapping[str, Any]) -> TwilioConfig:
        reader = ConfigReader(raw)
        config = TwilioConfig(reader.secret())
        reader.finish()
        return config

    def verify(self, request: InboundRequest, config: TwilioConfig, now: datetime) -> Verification:
        signature = request.headers.get(SIGNATURE_HEADER)
        if signature is None:
            return Verification.missing_header(SIGNATURE_HEADER)
        algorithm = _algorithm(request)
        if algorithm is None:
            return Verification.malformed_header(SETTINGS_HEADER, "names an unknown algorithm")
        body_hash = request.query_value("bodySHA256")
        if body_hash is not None:
            actual = hashlib.sha256(request.body).hexdigest().encode()
            if not hmac.compare_digest(
                actual, body_hash.strip().lower().encode("utf-8", "replace")
            ):
                return Verification.rejected("body_hash_mismatch", "bodySHA256 does not match body")
            suffix = ""
        else:
            pairs = form_pairs(request.body) if request.body else []
            if pairs is None:
                return Verification.rejected("malformed_body", "body is not form data")
            suffix = _params_suffix(pairs)
        contents = [
            (url + suffix).encode("utf-8", "surrogatepass") for url in signed_urls(request.url)
        ]
        expected = [
            d for c in contents for d in secret_hmacs(config.secret.active(now), c, algorithm)
        ]
        if any_match(expected, [decode_base64(signature)]):
            return Verification.accepted()
        return Verification.mismatch()

    def handshake(
        self, request: InboundRequest, config: TwilioConfig, now: datetime
    ) -> HandshakeReply | None:
        return None

    def event_type(self, request: InboundRequest, config: TwilioConfig) -> str | None:
        """``twilio.message.<status>``, ``twilio.call.<status>``, or a JSON body's ``type``."""
        body = request.json_body
        if body is not None:
            native = text_at(body, "type")
            return f"twilio.{native}" if native else None
        form = dict(form_pairs(request.body) or ())
        status = form.get("MessageStatus") or form.get("SmsStatus")
        if status:
            return f"twilio.message.{status}"
        if form.get("CallStatus"):
            return f"twilio.call.{form['CallStatus']}"
        return None

    def dedup_key(self, request: InboundRequest, config: TwilioConfig) -> str | None:
        return (request.headers.get(IDEMPOTENCY_HEADER) or "").strip() or None


PROVIDER = TwilioProvider()
