"""An endpoint's call settings and authentication, as sent to the API: checked, then applied.

Only the fields a request sends change (PUT and PATCH alike, as with custom headers), so an SDK
that knows nothing of them never wipes them; ``null`` resets a field to its default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import orjson

from hookd.core.calls.plan import (
    API_NAMES,
    MAX_TIMEOUT_MS,
    METHODS,
    CallSettings,
    FallbackResponse,
    check_body_template,
    check_url_template,
)
from hookd.core.calls.response_mapping import MappingError, check_mapping
from hookd.core.calls.templates import TemplateError
from hookd.core.domain import Endpoint
from hookd.core.endpoint_auth import (
    AuthConfigError,
    OAuth2ClientCredentials,
    auth_from_json,
    tls_from_json,
)
from hookd.core.urls import url_problem
from hookd.services.errors import Invalid

DEFAULTS = CallSettings()


def call_fields(fields: Mapping[str, Any], endpoint: Endpoint | None) -> dict[str, Any]:
    """``call``, ``auth`` and ``tls`` for an endpoint after ``fields`` are applied."""
    call = endpoint.call if endpoint is not None else DEFAULTS
    changes = {name: _call_value(name, fields[name]) for name in API_NAMES if name in fields}
    out: dict[str, Any] = {"call": dataclasses.replace(call, **changes)}
    if "auth" in fields:
        out["auth"] = _auth(fields["auth"], endpoint)
    if "tls" in fields:
        out["tls"] = _tls(fields["tls"], endpoint)
    return out


def _call_value(name: str, value: Any) -> Any:
    loc = ("body", API_NAMES[name])
    if value is None:
        return getattr(DEFAULTS, name)
    if name == "method" and value not in METHODS:
        raise Invalid(f"method must be one of {', '.join(METHODS)}", loc=loc)
    if name == "timeout_ms" and not 1 <= value <= MAX_TIMEOUT_MS:
        raise Invalid(f"timeoutMs must be between 1 and {MAX_TIMEOUT_MS}", loc=loc)
    try:
        if name == "url_template":
            check_url_template(value)
        elif name == "body_template":
            check_body_template(value)
    except TemplateError as exc:
        raise Invalid(f"{API_NAMES[name]}: {exc}", loc=loc) from exc
    if name == "response_mapping":
        try:
            check_mapping(value)
        except MappingError as exc:
            raise Invalid(f"responseMapping: {exc}", loc=(*loc, exc.name)) from exc
        return dict(value)
    if name == "fallback_response":
        try:
            orjson.dumps(value.get("body"))
        except orjson.JSONEncodeError as exc:
            raise Invalid(f"fallbackResponse.body cannot be encoded: {exc}", loc=loc) from exc
        return FallbackResponse(value.get("status") or 200, value.get("body"))
    return value


def _auth(value: Mapping[str, Any] | None, endpoint: Endpoint | None) -> Any:
    if value is None:
        return None
    try:
        auth = auth_from_json(value, endpoint.auth if endpoint is not None else None)
    except AuthConfigError as exc:
        raise Invalid(f"auth: {exc}", loc=("body", "auth", exc.field)) from exc
    if isinstance(auth, OAuth2ClientCredentials):
        problem = url_problem(auth.token_url)
        if problem is None and not auth.token_url.lower().startswith(("http://", "https://")):
            problem = "the token URL must be http or https"
        if problem is not None:
            raise Invalid(f"auth.tokenUrl: {problem}", loc=("body", "auth", "tokenUrl"))
    return auth


def _tls(value: Mapping[str, Any] | None, endpoint: Endpoint | None) -> Any:
    if value is None:
        return None
    try:
        return tls_from_json(value, endpoint.tls if endpoint is not None else None)
    except AuthConfigError as exc:
        raise Invalid(f"tls: {exc}", loc=("body", "tls", exc.field)) from exc
