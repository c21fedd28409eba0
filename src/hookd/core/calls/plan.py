"""Synchronous calls: an endpoint's call settings, and what one call sends and means.

Pure: :func:`plan_call` turns the settings and a call's payload and params into the request to
send; :func:`read_response` turns what came back into the caller's ``json`` and ``mapped``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from hookd.core.calls.response_mapping import apply_mapping
from hookd.core.calls.templates import (
    TemplateError,
    check_syntax,
    render_body,
    render_url,
    sample_params,
)
from hookd.core.urls import url_problem

METHODS = ("POST", "GET", "PUT", "PATCH", "DELETE")
DEFAULT_TIMEOUT_MS = 5_000
MAX_TIMEOUT_MS = 30_000
# The event type of the message a call is recorded as.
CALL_EVENT_TYPE = "hookd.call"


@dataclass(frozen=True, slots=True)
class FallbackResponse:
    """What a failed call answers instead, when configured."""

    status: int
    body: Any


@dataclass(frozen=True, slots=True)
class CallSettings:
    method: str = "POST"
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    url_template: str | None = None
    body_template: str | None = None
    response_mapping: dict[str, str] | None = None
    fallback_response: FallbackResponse | None = None
    retry_async: bool = False


# Each setting's name in the API (camelCase); the store's columns use the Python names.
API_NAMES = {
    "method": "method",
    "timeout_ms": "timeoutMs",
    "url_template": "urlTemplate",
    "body_template": "bodyTemplate",
    "response_mapping": "responseMapping",
    "fallback_response": "fallbackResponse",
    "retry_async": "retryAsync",
}


def settings_values(call: CallSettings) -> dict[str, Any]:
    """The settings as plain JSON values by Python name."""
    fallback = call.fallback_response
    return {
        "method": call.method,
        "timeout_ms": call.timeout_ms,
        "url_template": call.url_template,
        "body_template": call.body_template,
        "response_mapping": call.response_mapping,
        "fallback_response": None
        if fallback is None
        else {"status": fallback.status, "body": fallback.body},
        "retry_async": call.retry_async,
    }


@dataclass(frozen=True, slots=True)
class PlannedCall:
    method: str
    url: str
    body: bytes
    timeout_ms: int


def check_url_template(template: str) -> None:
    """Raise TemplateError unless the template renders to an http(s) URL."""
    check_syntax(template)
    url = render_url(template, sample_params(template))
    problem = url_problem(url)
    if problem is None and not url.lower().startswith(("http://", "https://")):
        problem = "a call URL must be http or https"
    if problem is not None:
        raise TemplateError(problem)


def check_body_template(template: str) -> None:
    """Raise TemplateError unless the template renders to a JSON object."""
    check_syntax(template)
    _json_object(render_body(template, sample_params(template)).encode())


def plan_call(
    settings: CallSettings,
    endpoint_url: str,
    payload: bytes | None,
    params: Mapping[str, Any],
    timeout_ms: int | None,
) -> PlannedCall:
    """The request a call sends; MissingParam names a param a template needs and lacks."""
    url = endpoint_url
    if settings.url_template is not None:
        url = render_url(settings.url_template, params)
    if settings.body_template is not None:
        body = render_body(settings.body_template, params).encode()
        _json_object(body)
    elif settings.method == "GET":
        body = b""
    else:
        body = payload if payload is not None else b"{}"
    return PlannedCall(settings.method, url, body, timeout_ms or settings.timeout_ms)


@dataclass(frozen=True, slots=True)
class CallResponse:
    json: Any
    mapped: dict[str, Any]


def read_response(body: bytes, mapping: Mapping[str, str] | None) -> CallResponse:
    """Parse a JSON response (None when it is not JSON) and apply the response mapping."""
    try:
        document = orjson.loads(body) if body.strip() else None
    except orjson.JSONDecodeError:
        document = None
    return CallResponse(document, apply_mapping(mapping or {}, document))


def _json_object(body: bytes) -> None:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise TemplateError(f"the body template does not render to valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise TemplateError("the body template must render to a JSON object")
