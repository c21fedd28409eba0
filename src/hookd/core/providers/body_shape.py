"""What a verified body must look like for providers whose payloads are JSON objects.

A correctly signed body that is not what the provider sends (plain text, an array, nothing)
would be forwarded with no event type and no dedup key; the providers' own SDKs refuse such
bodies, and so does hookd (``malformed_body``, answered 400). Providers that also post forms
(GitHub's ``payload=`` form, Slack's slash commands and interactivity) keep those.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from hookd.core.providers.model import Verification
from hookd.core.providers.payload import form_pairs, json_object
from hookd.core.providers.request import InboundRequest

__all__ = ["MALFORMED_BODY", "body_refusal"]

MALFORMED_BODY = "malformed_body"
NOT_AN_OBJECT = Verification.rejected(MALFORMED_BODY, "body is not a JSON object")


def _is_object(request: InboundRequest) -> bool:
    return request.json_body is not None


def _form_fields(request: InboundRequest) -> dict[str, str]:
    return dict(form_pairs(request.body) or ())


def _payload_field(fields: Mapping[str, str]) -> bool:
    payload = fields.get("payload")
    return payload is not None and json_object(payload.encode()) is not None


def _github(request: InboundRequest) -> bool:
    """JSON, or (a hook whose content type is a form) ``payload=<JSON object>``."""
    return _is_object(request) or _payload_field(_form_fields(request))


def _slack(request: InboundRequest) -> bool:
    """Events API JSON; interactivity's ``payload`` form; slash commands and their SSL check."""
    if _is_object(request):
        return True
    fields = _form_fields(request)
    return _payload_field(fields) or "command" in fields or "ssl_check" in fields


def _shopify(request: InboundRequest) -> bool:
    """JSON, or XML for subscriptions made with Shopify's (legacy) ``format: xml``."""
    content_type = (request.headers.get("content-type") or "").lower()
    return _is_object(request) or ("xml" in content_type and bool(request.body.strip()))


# Providers absent here take any body: generic-webhook (anything), Twilio (forms and JSON,
# both checked by its signature), Microsoft Graph (its verification reads the JSON body).
_RULES: Mapping[str, Callable[[InboundRequest], bool]] = MappingProxyType(
    {
        "standard-webhooks": _is_object,
        "svix": _is_object,
        "stripe": _is_object,
        "github": _github,
        "gitlab": _is_object,
        "shopify": _shopify,
        "slack": _slack,
        "meta": _is_object,
        "paddle": _is_object,
        "zoom": _is_object,
        "discord": _is_object,
        "twitch": _is_object,
    }
)


def body_refusal(provider_name: str, request: InboundRequest) -> Verification | None:
    """``malformed_body`` when the provider never sends a body like this one, else ``None``."""
    rule = _RULES.get(provider_name)
    if rule is None or rule(request):
        return None
    return NOT_AN_OBJECT
