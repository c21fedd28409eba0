"""Request and response shapes at the API edge, in Svix's camelCase."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

T = TypeVar("T")
UID = r"^[a-zA-Z0-9\-_.]+$"


# Svix declares rateLimit as uint16 and versions as int32; bounding them also keeps every
# integer inside what SQLite and PostgreSQL columns can hold.
RATE_LIMIT_MAX = 65_535
INT32_MAX = 2**31 - 1


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def fields_set(self) -> dict[str, Any]:
        """The fields the caller sent, by their Python names (for PATCH semantics)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class ApplicationIn(CamelModel):
    name: str = Field(min_length=1, max_length=256)
    uid: str | None = Field(default=None, min_length=1, max_length=256, pattern=UID)
    rate_limit: int | None = Field(
        default=None,
        ge=1,
        le=RATE_LIMIT_MAX,
        validation_alias=AliasChoices("rateLimit", "throttleRate"),
    )
    metadata: dict[str, str] | None = None


class ApplicationPatch(CamelModel):
    name: str | None = Field(default=None, min_length=1, max_length=256)
    uid: str | None = Field(default=None, min_length=1, max_length=256, pattern=UID)
    rate_limit: int | None = Field(
        default=None,
        ge=1,
        le=RATE_LIMIT_MAX,
        validation_alias=AliasChoices("rateLimit", "throttleRate"),
    )
    metadata: dict[str, str] | None = None


class ApplicationOut(CamelModel):
    id: str
    uid: str | None
    name: str
    rate_limit: int | None
    throttle_rate: int | None
    metadata: dict[str, str]
    created_at: datetime
    updated_at: datetime


class EndpointPatch(CamelModel):
    url: str | None = None
    description: str | None = None
    uid: str | None = Field(default=None, min_length=1, max_length=256, pattern=UID)
    disabled: bool | None = None
    filter_types: list[str] | None = Field(
        default=None, validation_alias=AliasChoices("filterTypes", "eventTypes")
    )
    channels: list[str] | None = None
    rate_limit: int | None = Field(
        default=None,
        ge=1,
        le=RATE_LIMIT_MAX,
        validation_alias=AliasChoices("rateLimit", "throttleRate"),
    )
    metadata: dict[str, str] | None = None
    version: int | None = Field(default=None, ge=1, le=INT32_MAX)
    fifo: bool | None = Field(
        default=None, description="deliver one message at a time, in the order they were created"
    )
    batch_size: int | None = Field(
        default=None, ge=1, le=1000, description="send up to this many messages per POST"
    )
    batch_max_wait_ms: int | None = Field(
        default=None, ge=0, le=60_000, description="longest a due message waits to fill a batch"
    )


class EndpointIn(EndpointPatch):
    url: str
    secret: str | None = None
    headers: dict[str, str] | None = None


class EndpointOut(CamelModel):
    id: str
    uid: str | None
    url: str
    description: str
    version: int
    disabled: bool
    filter_types: list[str] | None
    event_types: list[str] | None
    channels: list[str] | None
    rate_limit: int | None
    throttle_rate: int | None
    metadata: dict[str, str]
    created_at: datetime
    updated_at: datetime
    fifo: bool = False
    batch_size: int | None = None
    batch_max_wait_ms: int | None = None


class EndpointSecretOut(CamelModel):
    key: str
    public_key: str | None = Field(default=None, description="whpk_ key to verify v1a signatures")


class EndpointSecretRotateIn(CamelModel):
    key: str | None = None
    grace_period_seconds: int | None = Field(default=None, ge=0, le=604800)


class EndpointHeadersIn(CamelModel):
    headers: dict[str, str]


class EndpointHeadersPatchIn(CamelModel):
    headers: dict[str, str]
    delete_headers: list[str] | None = None


class EndpointHeadersOut(CamelModel):
    headers: dict[str, str]
    sensitive: list[str]


class RecoverIn(CamelModel):
    since: datetime
    until: datetime | None = None


class RecoverOut(CamelModel):
    id: str
    status: str
    task: str
    updated_at: datetime


class EndpointStatsOut(CamelModel):
    success: int
    pending: int
    sending: int
    fail: int
    canceled: int


class EventTypeIn(CamelModel):
    name: str = Field(min_length=1, max_length=256)
    description: str = ""
    archived: bool | None = None
    deprecated: bool | None = None
    schemas: dict[str, dict[str, Any]] | None = None
    feature_flags: list[str] | None = None
    group_name: str | None = None


class EventTypeUpdate(CamelModel):
    description: str = ""
    archived: bool | None = None
    deprecated: bool | None = None
    schemas: dict[str, dict[str, Any]] | None = None
    feature_flags: list[str] | None = None
    group_name: str | None = None


class EventTypePatch(CamelModel):
    description: str | None = None
    archived: bool | None = None
    deprecated: bool | None = None
    schemas: dict[str, dict[str, Any]] | None = None
    feature_flags: list[str] | None = None
    group_name: str | None = None


class EventTypeOut(CamelModel):
    name: str
    description: str
    archived: bool
    deprecated: bool
    schemas: dict[str, Any] | None
    feature_flags: list[str]
    group_name: str | None
    created_at: datetime
    updated_at: datetime


class MessageIn(CamelModel):
    event_type: str
    payload: dict[str, Any]
    event_id: str | None = None
    channels: list[str] | None = None
    tags: list[str] | None = None
    application: ApplicationIn | None = None
    payload_retention_period: int | None = Field(default=None, ge=1, le=90)
    deliver_at: datetime | None = Field(
        default=None, description="deliver at this time (at most 30 days ahead) instead of now"
    )


class MessageOut(CamelModel):
    id: str
    event_type: str
    event_id: str | None
    payload: dict[str, Any]
    channels: list[str] | None
    tags: list[str] | None
    timestamp: datetime


class MessageAttemptOut(CamelModel):
    id: str
    msg_id: str
    endpoint_id: str
    url: str
    status: int
    status_text: str
    response: str
    response_status_code: int
    response_duration_ms: int
    trigger_type: int
    timestamp: datetime
    msg: MessageOut | None = None


class MessageEndpointOut(EndpointOut):
    status: int
    status_text: str
    next_attempt: datetime | None


class EndpointMessageOut(MessageOut):
    status: int
    status_text: str
    next_attempt: datetime | None


class EndpointHealthOut(CamelModel):
    """hookd's view of an endpoint's health (not part of Svix's API)."""

    state: str = Field(description="healthy, backing_off, circuit_open or disabled")
    consecutive_failures: int
    failing_since: datetime | None
    next_probe_at: datetime | None = Field(description="when an open circuit sends its probe")
    in_flight: int


class ErrorOut(BaseModel):
    code: str
    detail: str


class HealthOut(BaseModel):
    status: str
    database: str


class ListResponse(BaseModel, Generic[T]):
    data: list[T]
    iterator: str | None
    prevIterator: str | None = None
    done: bool
