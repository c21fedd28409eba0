"""Shapes of the Ingest API (Svix's, camelCase) plus hookd's request inspection and replay.

Forwarding endpoints reuse ``api.send.models``' endpoint shapes: they are a superset of Svix's
``IngestEndpointIn``/``IngestEndpointOut`` (hookd adds ``filterTypes`` and ``channels``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, StrictInt

from hookd.api.send.models import UID, Bool, CamelModel, Time

MAX_STATIC_BODY = 64 * 1024
Outcome = Literal["accepted", "duplicate", "rejected", "handshake"]
Replayable = Literal["accepted", "duplicate", "rejected"]
StatusText = Literal["success", "pending", "fail", "sending"]


def _accepted_only() -> list[Replayable]:
    return ["accepted"]


class StaticResponseIn(CamelModel):
    """hookd: the answer to accepted and duplicate requests (default: what the provider expects)."""

    status_code: int = Field(ge=200, le=299)
    content_type: str | None = Field(default=None, max_length=256, pattern=r"^[^\r\n]*$")
    body: str = Field(default="", max_length=MAX_STATIC_BODY)


class StaticResponseOut(CamelModel):
    status_code: int
    content_type: str | None
    body: str


class IngestSourceIn(CamelModel):
    name: str = Field(min_length=1, max_length=256)
    uid: str | None = Field(default=None, min_length=1, max_length=256, pattern=UID)
    type: str = Field(
        min_length=1,
        max_length=64,
        description="a Svix source type or a hookd provider name; with generic-webhook, "
        "config.provider may name any hookd provider",
    )
    config: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, str] | None = None
    response: StaticResponseIn | None = None
    # Strict: a JSON boolean is no number of seconds (pydantic's lax mode takes false as 0).
    dedup_window_seconds: StrictInt | None = Field(default=None, ge=0, le=30 * 24 * 3600)

    def fields_set(self) -> dict[str, Any]:
        fields = super().fields_set()
        if isinstance(fields.get("response"), StaticResponseIn):
            # The service reads plain fields (it also serves callers without pydantic).
            fields["response"] = fields["response"].model_dump()
        return fields


class IngestSourceOut(CamelModel):
    id: str
    uid: str | None
    name: str
    type: str
    provider: str
    config: dict[str, Any]
    metadata: dict[str, str]
    ingest_url: str
    response: StaticResponseOut
    dedup_window_seconds: int | None = Field(description="null: the server's default")
    created_at: datetime
    updated_at: datetime


class IngestSourceSecretOut(CamelModel):
    """hookd: the secret fields of a source's config, in clear (other answers mask them)."""

    secret: str | None = None
    previous_secret: str | None = None
    verify_token: str | None = None
    previous_verify_token: str | None = None


class RotateTokenOut(CamelModel):
    ingest_url: str


class VerificationOut(CamelModel):
    ok: bool
    code: str
    reason: str


class ForwardedOut(CamelModel):
    endpoint_id: str
    url: str
    status: int
    status_text: str
    attempts: int
    next_attempt: datetime | None


class InboundRequestOut(CamelModel):
    id: str
    source_id: str
    received_at: datetime
    method: str
    url: str
    path: str
    query: str
    remote_ip: str | None
    outcome: Outcome
    verification: VerificationOut
    response_status_code: int
    event_type: str | None
    dedup_key: str | None
    msg_id: str | None
    body_size: int = Field(description="the body's size as received")
    body_truncated: bool = Field(
        description="only the first HOOKD_REJECTED_BODY_BYTES of the body were kept (rejected "
        "requests and handshakes)"
    )
    request_count: int = Field(
        description="requests this record stands for: repeated rejections from one address "
        "within HOOKD_REJECTED_COALESCE_SECONDS are counted on the first one's record"
    )
    last_received_at: datetime | None = Field(
        description="when the last of those requests arrived (null: only one)"
    )


class InboundRequestDetailOut(InboundRequestOut):
    headers: list[tuple[str, str]]
    body: str = Field(description="the raw body, base64")
    body_text: str | None = Field(description="the raw body when it is UTF-8 text")
    forwarded_to: list[ForwardedOut]


class ReplayOut(CamelModel):
    deliveries_queued: int


class BulkReplayIn(CamelModel):
    since: Time
    until: Time | None = None
    outcomes: list[Replayable] = Field(default_factory=_accepted_only, min_length=1)
    status: StatusText | None = Field(
        default=None, description="only requests whose forwarding is in this state somewhere"
    )
    force: Bool = Field(default=False, description="required to forward rejected requests")


class BulkReplayOut(CamelModel):
    id: str
    status: str
    task: str
    updated_at: datetime
    data: dict[str, Any]
