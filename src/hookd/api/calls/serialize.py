"""Call settings and call results to JSON; secrets leave masked."""

from __future__ import annotations

from typing import Any

from hookd.core.calls.plan import API_NAMES, settings_values
from hookd.core.domain import Endpoint
from hookd.core.endpoint_auth import auth_to_json, tls_to_json
from hookd.services.calls.call import CallOutcome


def call_settings_out(ep: Endpoint) -> dict[str, Any]:
    return {
        **{API_NAMES[name]: value for name, value in settings_values(ep.call).items()},
        "auth": None if ep.auth is None else auth_to_json(ep.auth, masked=True),
        "tls": None if ep.tls is None else tls_to_json(ep.tls, masked=True),
    }


def call_out(outcome: CallOutcome) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "headers": outcome.headers,
        "body": outcome.body,
        "json": outcome.json,
        "mapped": outcome.mapped,
        "durationMs": outcome.duration_ms,
        "attemptId": outcome.attempt_id,
        "msgId": outcome.msg_id,
        "fallback": outcome.fallback,
        "queued": outcome.queued,
        "error": None
        if outcome.error is None
        else {"code": outcome.error.code, "detail": outcome.error.detail},
    }
