"""Svix source types hookd does not verify natively yet, and how to receive each meanwhile.

The Svix SDKs list Svix's ingest source types; hookd verifies most of them natively (its own
providers, or ``svix`` for senders that sign like Svix). For the rest, creating a source answers
a 422 that names the type, says it is not built in, and shows the ``generic-webhook`` config
that verifies it where ``generic-webhook`` can.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import orjson

__all__ = ["NOT_BUILT_IN", "not_built_in_message"]

SECRET_PLACEHOLDER = "<the provider's signing secret>"  # noqa: S105 (shown to users)


def _hmac(header: str, **fields: Any) -> dict[str, Any]:
    return {"auth": "hmac", "secret": SECRET_PLACEHOLDER, "signatureHeader": header, **fields}


# Svix type -> the generic-webhook config that verifies it, or why generic-webhook cannot.
NOT_BUILT_IN: Mapping[str, dict[str, Any] | str] = MappingProxyType(
    {
        "docusign": _hmac("X-DocuSign-Signature-1", encoding="base64"),
        "easypost": _hmac("X-Hmac-Signature", signaturePrefix="hmac-sha256-hex="),
        "merge": _hmac("X-Merge-Webhook-Signature", encoding="base64url"),
        "nango": _hmac("X-Nango-Hmac-Sha256"),
        "segment": _hmac("X-Signature", algorithm="sha1"),
        "veriff": _hmac("X-HMAC-SIGNATURE"),
        "vapi": {"auth": "api-key", "headerName": "X-Vapi-Secret", "secret": SECRET_PLACEHOLDER},
        "cron": "a cron source is a schedule run by Svix, not a sender calling an ingest URL",
        "adobe-sign": "Adobe Sign is verified by echoing X-AdobeSign-ClientId in the answer",
        "hubspot": "HubSpot signs the method, the URL and a millisecond timestamp with the body",
        "panda-doc": "PandaDoc sends its signature in the query string, not in a header",
        "tailscale": "Tailscale puts the timestamp inside its signature header (t=...,v1=...)",
        "telnyx": "Telnyx signs with Ed25519 public-key signatures",
        "orum-io": "Orum signs with public-key signatures",
        "airwallex": "Airwallex signs a millisecond timestamp followed by the body",
        "checkbook": "",
        "rutter": "",
        "port-io": "",
        "vgs": "",
        "openclaw": "",
    }
)
UNKNOWN_SCHEME = (
    "hookd has no generic-webhook recipe for it: if it sends an HMAC of the body in one header, "
    'a generic-webhook source with "auth": "hmac" (signatureHeader, algorithm, encoding) '
    "verifies it"
)


def not_built_in_message(source_type: str) -> str | None:
    """The 422's text for a Svix type hookd does not verify natively (None: not one of them)."""
    how = NOT_BUILT_IN.get(source_type)
    if how is None:
        return None
    head = f"source type {source_type!r} is not built into hookd yet"
    if isinstance(how, dict):
        config = orjson.dumps(how).decode()
        return (
            f"{head}; receive it as a generic-webhook source, which verifies it: "
            f'{{"type": "generic-webhook", "config": {config}}}'
        )
    if not how:
        return f"{head}; {UNKNOWN_SCHEME}"
    return f"{head}, and generic-webhook cannot verify it ({how})"
