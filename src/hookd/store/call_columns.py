"""Endpoint columns for call settings and authentication, to and from domain values."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import RowMapping

from hookd.core.calls.plan import CallSettings, FallbackResponse, settings_values
from hookd.core.domain import Endpoint
from hookd.core.endpoint_auth import (
    ClientTls,
    EndpointAuth,
    auth_from_json,
    auth_to_json,
    tls_to_json,
)
from hookd.store.sealing import open_json, seal_json

# Sealed columns (store.sealing): credentials and the mTLS key.
AUTH, TLS = "endpoints.auth", "endpoints.tls"


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
    auth = open_json(m["auth"], AUTH)
    return None if auth is None else auth_from_json(auth)


def tls_from_row(m: RowMapping) -> ClientTls | None:
    tls = open_json(m["tls"], TLS)
    if tls is None:
        return None
    return ClientTls(tls.get("clientCert"), tls.get("clientKey"), tls.get("caBundle"))


def call_values(ep: Endpoint) -> dict[str, Any]:
    return {
        **settings_values(ep.call),
        "auth": None if ep.auth is None else seal_json(auth_to_json(ep.auth), AUTH),
        "tls": None if ep.tls is None else seal_json(tls_to_json(ep.tls), TLS),
    }
