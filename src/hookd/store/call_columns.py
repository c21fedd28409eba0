"""Endpoint columns for call settings and authentication, to and from domain values."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import RowMapping

from hookd.core.calls import CallSettings, FallbackResponse, settings_values
from hookd.core.domain import Endpoint
from hookd.core.endpoint_auth import (
    ClientTls,
    EndpointAuth,
    auth_from_json,
    auth_to_json,
    tls_to_json,
)


def call_settings_from_row(m: RowMapping) -> CallSettings:
    fallback = m["fallback_response"]
    return CallSettings(
        method=m["method"],
        timeout_ms=m["timeout_ms"],
        url_template=m["url_template"],
        body_template=m["body_template"],
        response_mapping=None if m["response_mapping"] is None else dict(m["response_mapping"]),
        fallback_response=None
        if fallback is None
        else FallbackResponse(fallback["status"], fallback.get("body")),
        retry_async=bool(m["retry_async"]),
    )


def auth_from_row(m: RowMapping) -> EndpointAuth | None:
    return None if m["auth"] is None else auth_from_json(m["auth"])


def tls_from_row(m: RowMapping) -> ClientTls | None:
    tls = m["tls"]
    if tls is None:
        return None
    return ClientTls(tls.get("clientCert"), tls.get("clientKey"), tls.get("caBundle"))


def call_values(ep: Endpoint) -> dict[str, Any]:
    return {
        **settings_values(ep.call),
        "auth": None if ep.auth is None else auth_to_json(ep.auth),
        "tls": None if ep.tls is None else tls_to_json(ep.tls),
    }
