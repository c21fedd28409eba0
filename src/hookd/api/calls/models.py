"""The shapes of ``POST /api/v1/app/{app_id}/endpoint/{endpoint_id}/call``."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from hookd.api.calls.fields import TimeoutMs
from hookd.api.send.models import CamelModel


class CallIn(CamelModel):
    nul_allowed = frozenset({"payload"})

    payload: dict[str, Any] | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    timeout_ms: TimeoutMs | None = None


class CallError(CamelModel):
    code: str
    detail: str


class CallOut(CamelModel):
    status: int
    headers: dict[str, str]
    body: str
    json_: Any = Field(alias="json")
    mapped: dict[str, Any]
    duration_ms: int
    attempt_id: str
    msg_id: str
    fallback: bool
    queued: bool
    error: CallError | None
