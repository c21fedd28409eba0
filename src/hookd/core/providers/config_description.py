"""Each provider's config fields, described: what a form asks for (the console's source form is
generated from this table, never written per provider).

The parsers (each provider's ``parse_config``) stay the rules; this is their description, and
``tests/unit/test_provider_config_description.py`` checks the two agree: every described field
is one its provider's parser reads, and a config made of the described examples parses. Fields
the table leaves out (the rotation's ``previousSecret`` and its expiry, a bin's answer headers)
are set through the API; a form keeps them as stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from hookd.core.providers.config_fields import MAX_TOLERANCE_SECONDS
from hookd.core.providers.digests import ALGORITHMS
from hookd.core.providers.generic_config import AUTH_MODES, ENCODINGS, SECRET_ENCODINGS
from hookd.core.providers.gitlab import MODES as GITLAB_MODES
from hookd.core.providers.request_bin import MAX_DELAY_MS, MAX_TTL_SECONDS
from hookd.core.providers.verifier import ALLOWLIST_FIELD

__all__ = ["COMMON_FIELDS", "CONFIG_FIELDS", "ConfigField", "FieldKind", "fields_of"]

FieldKind = Literal["text", "secret", "integer", "boolean", "choice", "list"]


@dataclass(frozen=True, slots=True)
class ConfigField:
    """One config key: ``name`` as the JSON config spells it (``answer.statusCode`` is the key
    ``statusCode`` of the object ``answer``); empty in a form means "not set" (the default)."""

    name: str
    label: str
    kind: FieldKind = "text"
    required: bool = False
    hint: str = ""
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    # Only read when another field has one of these values, e.g. ("auth", ("hmac",)).
    when: tuple[str, tuple[str, ...]] | None = None
    # A value the parser accepts (with the other fields' examples), for the agreement test.
    example: str | int | bool | tuple[str, ...] = ""


def _secret(
    hint: str, name: str = "secret", label: str = "Secret", example: str = "shh-secret"
) -> ConfigField:
    return ConfigField(name, label, "secret", required=True, hint=hint, example=example)


SIGNING_KEY_EXAMPLE = "whsec_" + "A" * 32  # a key of zero bytes: an example that parses


def _tolerance(default: int) -> ConfigField:
    return ConfigField(
        "toleranceSeconds",
        "Timestamp tolerance (seconds)",
        "integer",
        hint=f"How far a signed timestamp may be from now; empty: {default}.",
        minimum=1,
        maximum=MAX_TOLERANCE_SECONDS,
        example=300,
    )


_HMAC = ("auth", ("hmac",))
_SECRET_MODES = ("auth", ("hmac", "basic", "bearer", "api-key"))

# Read by every provider (``verifier.parse_verifier``), after its own fields.
COMMON_FIELDS: tuple[ConfigField, ...] = (
    ConfigField(
        ALLOWLIST_FIELD,
        "Allowed addresses",
        "list",
        hint="IP addresses or CIDR ranges, comma-separated; empty: any address.",
        example=("192.0.2.0/24",),
    ),
)

CONFIG_FIELDS: Mapping[str, tuple[ConfigField, ...]] = MappingProxyType(
    {
        "generic-webhook": (
            ConfigField(
                "auth",
                "Authentication",
                "choice",
                required=True,
                choices=AUTH_MODES,
                hint="How the sender proves it is the sender.",
                example="hmac",
            ),
            ConfigField(
                "secret",
                "Secret",
                "secret",
                hint="The HMAC key, password, token or API key (not with auth none).",
                when=_SECRET_MODES,
                example="shh-secret",
            ),
            ConfigField(
                "secretEncoding",
                "Secret encoding",
                "choice",
                choices=SECRET_ENCODINGS,
                hint="How the HMAC key is written; empty: utf8.",
                when=_HMAC,
                example="utf8",
            ),
            ConfigField(
                "signatureHeader",
                "Signature header",
                hint="The header carrying the HMAC (auth hmac).",
                when=_HMAC,
                example="X-Signature",
            ),
            ConfigField(
                "algorithm",
                "Algorithm",
                "choice",
                choices=tuple(ALGORITHMS),
                hint="Empty: sha256.",
                when=_HMAC,
                example="sha256",
            ),
            ConfigField(
                "encoding",
                "Signature encoding",
                "choice",
                choices=ENCODINGS,
                hint="Empty: hex.",
                when=_HMAC,
                example="hex",
            ),
            ConfigField(
                "signaturePrefix",
                "Signature prefix",
                hint="Text before the signature in the header, e.g. sha256=.",
                when=_HMAC,
                example="sha256=",
            ),
            ConfigField(
                "signedContent",
                "Signed content",
                hint="What is signed, with {body}, {timestamp} and {id}; empty: {body}.",
                when=_HMAC,
                example="{body}",
            ),
            ConfigField(
                "timestampHeader",
                "Timestamp header",
                hint="Required exactly when the signed content has {timestamp}.",
                when=_HMAC,
            ),
            ConfigField(
                "idHeader",
                "Id header",
                hint="Required exactly when the signed content has {id}.",
                when=_HMAC,
            ),
            ConfigField(
                "username",
                "Username",
                hint="For auth basic.",
                when=("auth", ("basic",)),
            ),
            ConfigField(
                "headerName",
                "API key header",
                hint="For auth api-key: the header carrying the key.",
                when=("auth", ("api-key",)),
            ),
            ConfigField(
                "eventTypeHeader",
                "Event type header",
                hint="The header naming the event type.",
                example="X-Event",
            ),
            ConfigField(
                "eventTypeJsonPath",
                "Event type JSON path",
                hint="Where the body names the event type, e.g. $.type.",
            ),
            ConfigField(
                "dedupHeader",
                "Deduplication header",
                hint="A header that stays the same when the sender sends again.",
                example="X-Delivery",
            ),
            ConfigField(
                "dedupJsonPath",
                "Deduplication JSON path",
                hint="Where the body holds that key, e.g. $.id.",
            ),
        ),
        "standard-webhooks": (
            _secret("whsec_… (v1) or whpk_… (v1a).", example=SIGNING_KEY_EXAMPLE),
            _tolerance(300),
        ),
        "svix": (
            _secret("whsec_… from the sender's Svix settings.", example=SIGNING_KEY_EXAMPLE),
            _tolerance(300),
        ),
        "stripe": (_secret("The endpoint's signing secret, whsec_…."), _tolerance(300)),
        "github": (
            _secret("The webhook's secret."),
            ConfigField(
                "allowSha1",
                "Accept SHA-1 signatures (legacy X-Hub-Signature)",
                "boolean",
                example=False,
            ),
        ),
        "gitlab": (
            ConfigField(
                "mode",
                "Mode",
                "choice",
                choices=GITLAB_MODES,
                hint="token: the secret token header; signing-token: signed requests. "
                "Empty: token.",
                example="token",
            ),
            _secret("The secret token, or the signing token (whsec_…)."),
            ConfigField(
                "toleranceSeconds",
                "Timestamp tolerance (seconds)",
                "integer",
                hint="With signing-token; empty: 300.",
                minimum=1,
                maximum=MAX_TOLERANCE_SECONDS,
                when=("mode", ("signing-token",)),
            ),
        ),
        "shopify": (_secret("The app's client secret."),),
        "slack": (_secret("The app's signing secret."), _tolerance(300)),
        "twilio": (_secret("The account's auth token."),),
        "meta": (
            _secret("The app secret."),
            _secret(
                "What you typed as the verify token in Meta's settings.",
                name="verifyToken",
                label="Verify token",
            ),
        ),
        "paddle": (_secret("The notification destination's secret key."), _tolerance(5)),
        "zoom": (_secret("The app's secret token."), _tolerance(300)),
        "discord": (
            ConfigField(
                "publicKey",
                "Public key",
                required=True,
                hint="The application's public key (hex).",
                example="a" * 64,
            ),
            _tolerance(300),
        ),
        "twitch": (_secret("The subscription's secret."), _tolerance(600)),
        "microsoft-graph": (_secret("The subscription's clientState."),),
        # A relay has no settings of its own: `hookd listen` brings its filters.
        "relay": (),
        "bin": (
            ConfigField(
                "ttlSeconds",
                "Keep requests for (seconds)",
                "integer",
                hint="Empty: 7 days.",
                minimum=1,
                maximum=MAX_TTL_SECONDS,
                example=3600,
            ),
            ConfigField(
                "answer.statusCode",
                "Answer status",
                "integer",
                hint="Empty: 200.",
                minimum=200,
                maximum=599,
                example=200,
            ),
            ConfigField("answer.body", "Answer body", hint="Empty: no body.", example="ok"),
            ConfigField(
                "answer.delayMs",
                "Answer delay (ms)",
                "integer",
                hint="Empty: at once.",
                minimum=0,
                maximum=MAX_DELAY_MS,
                example=0,
            ),
        ),
    }
)


def fields_of(provider: str) -> tuple[ConfigField, ...]:
    """The fields a form shows for ``provider`` (its own, then the common ones)."""
    return CONFIG_FIELDS.get(provider, ()) + COMMON_FIELDS
