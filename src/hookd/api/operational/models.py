"""Svix's operational webhook endpoint shapes (``OperationalWebhookEndpoint*``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import AliasChoices, Field

from hookd.api.send.models import RATE_LIMIT_MAX, UID, Bool, CamelModel, Headers


class OperationalEndpointUpsertIn(CamelModel):
    url: str
    description: str | None = None
    uid: str | None = Field(default=None, min_length=1, max_length=256, pattern=UID)
    disabled: Bool | None = None
    filter_types: list[str] | None = Field(
        default=None,
        validation_alias=AliasChoices("eventTypes", "filterTypes"),
        serialization_alias="eventTypes",
        description="the operational event types to receive (omit: all)",
    )
    rate_limit: int | None = Field(
        default=None,
        ge=1,
        le=RATE_LIMIT_MAX,
        validation_alias=AliasChoices("throttleRate", "rateLimit"),
        serialization_alias="throttleRate",
    )
    metadata: dict[str, str] | None = None


class OperationalEndpointIn(OperationalEndpointUpsertIn):
    secret: str | None = None
    headers: Headers | None = None


class OperationalEndpointOut(CamelModel):
    id: str
    uid: str | None
    url: str
    description: str
    disabled: bool
    event_types: list[str] | None
    throttle_rate: int | None
    metadata: dict[str, str]
    created_at: datetime
    updated_at: datetime
