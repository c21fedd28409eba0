"""Request and response shapes at the API edge, in Svix's camelCase."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel

from hookd.api import nul
from hookd.api.calls.fields import AuthIn, FallbackResponseIn, Method, TimeoutMs, TlsIn

T = TypeVar("T")
UID = r"^[a-zA-Z0-9\-_.]+$"


# Svix declares rateLimit as uint16 and versions as int32; bounding them also keeps every
# integer inside what SQLite and PostgreSQL columns can hold.
RATE_LIMIT_MAX = 65_535
INT32_MAX = 2**31 - 1


def _not_a_number(value: Any) -> Any:
    """Times are RFC 3339 date-times (as Svix's): pydantic's lax mode would also take a number,
    or a string holding one, as seconds since 1970, which the document does not declare."""
    if isinstance(value, int | float) or (isinstance(value, str) and NUMBER.fullmatch(value)):
        raise ValueError("expected an RFC 3339 date-time such as 2024-05-01T12:00:00Z")
    return value


def _aware(value: datetime) -> datetime:
    """A time without an offset is UTC (the svix SDKs send naive datetimes as they are)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")
# Input types: a JSON boolean only (pydantic's lax mode took 0, 1, "yes"...; Svix refuses them),
# and a date-time string only. Query booleans stay lax: a query string has no booleans.
Bool = StrictBool
Time = Annotated[datetime, BeforeValidator(_not_a_number), AfterValidator(_aware)]
# Custom header names are HTTP tokens (RFC 9110), declared so: the service also refuses the
# names hookd sets itself (services/endpoints.check_headers).
HEADER_NAME = r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$"
Headers = Annotated[
    dict[Annotated[str, Field(pattern=HEADER_NAME)], str],
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"pattern": HEADER_NAME},
            "additionalProperties": {"type": "string"},
        }
    ),
]


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")
    # Fields stored as JSON bytes, where a NUL is a legal ``\u0000`` escape (api/nul.py).
    nul_allowed: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_nul(self) -> CamelModel:
        nul.check_fields(self, self.nul_allowed)
        return self

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


class TransformationIn(CamelModel):
    code: str = Field(description="JavaScript defining function handler(request)")
    enabled: Bool = True


class TransformationOut(CamelModel):
    code: str
    enabled: bool


class EndpointTransformationPatch(CamelModel):
    code: str | None = Field(default=None, description="null removes the transformation")
    enabled: Bool | None = None


class EndpointTransformationOut(CamelModel):
    code: str | None
    enabled: bool


class EndpointPatch(CamelModel):
    url: str | None = None
    description: str | None = None
    uid: str | None = Field(default=None, min_length=1, max_length=256, pattern=UID)
    disabled: Bool | None = None
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
    # Synchronous calls and endpoint authentication (docs/calls.md).
    method: Method | None = None
    timeout_ms: TimeoutMs | None = None
    url_template: str | None = None
    body_template: str | None = None
    response_mapping: dict[str, str] | None = None
    fallback_response: FallbackResponseIn | None = None
    retry_async: Bool | None = None
    auth: AuthIn | None = None
    tls: TlsIn | None = None
    version: int | None = Field(
        default=None,
        ge=1,
        le=INT32_MAX,
        description="pin the endpoint to this payload version (omit or null: the latest)",
    )
    thin: Bool | None = Field(
        default=None,
        description="receive {id, type, timestamp, url} with a signed link to the payload",
    )
    filter: dict[str, Any] | None = Field(
        default=None, description="JSON operator filter; only matching messages are delivered"
    )
    transformation: TransformationIn | None = None

    def fields_set(self) -> dict[str, Any]:
        fields = super().fields_set()
        if isinstance(fields.get("transformation"), TransformationIn):
            fields["transformation"] = fields["transformation"].model_dump()
        return fields

    fifo: Bool | None = Field(
        default=None, description="deliver one message at a time, in the order they were created"
    )
    batch_size: int | None = Field(
        default=None, ge=1, le=1000, description="send up to this many messages per POST"
    )
    batch_max_wait_ms: int | None = Field(
        default=None, ge=0, le=60_000, description="longest a due message waits to fill a batch"
    )
    trace_context: Bool | None = Field(
        default=None,
        description="send W3C traceparent and tracestate when tracing is on (default true)",
    )


class EndpointIn(EndpointPatch):
    url: str
    secret: str | None = None
    headers: Headers | None = None


class EndpointOut(CamelModel):
    id: str
    uid: str | None
    url: str
    description: str
    version: int = Field(description="the pinned payload version; 1 when not pinned (as Svix)")
    version_pinned: bool = Field(description="false: the endpoint receives the latest version")
    thin: bool
    disabled: bool
    filter_types: list[str] | None
    event_types: list[str] | None
    channels: list[str] | None
    rate_limit: int | None
    throttle_rate: int | None
    metadata: dict[str, str]
    filter: dict[str, Any] | None = None
    transformation: TransformationOut | None = None
    created_at: datetime
    updated_at: datetime
    method: Method = "POST"
    timeout_ms: int = 5000
    url_template: str | None = None
    body_template: str | None = None
    response_mapping: dict[str, str] | None = None
    fallback_response: FallbackResponseIn | None = None
    retry_async: bool = False
    auth: AuthIn | None = Field(default=None, description="secrets masked")
    tls: TlsIn | None = Field(default=None, description="clientKey masked")
    fifo: bool = False
    batch_size: int | None = None
    batch_max_wait_ms: int | None = None
    trace_context: bool = True


class EndpointSecretOut(CamelModel):
    key: str
    public_key: str | None = Field(default=None, description="whpk_ key to verify v1a signatures")
    url: str | None = Field(
        default=None,
        description="the endpoint URL in clear when it carries a password (other answers mask "
        "it); null otherwise",
    )


class EndpointSecretRotateIn(CamelModel):
    key: str | None = None
    grace_period_seconds: int | None = Field(default=None, ge=0, le=604800)


class EndpointHeadersIn(CamelModel):
    headers: Headers


class EndpointHeadersPatchIn(CamelModel):
    headers: Headers
    delete_headers: list[str] | None = None


class EndpointHeadersOut(CamelModel):
    headers: dict[str, str]
    sensitive: list[str]


class RecoverIn(CamelModel):
    since: Time
    until: Time | None = None


BackgroundTaskStatus = Literal["running", "finished", "failed"]


class BackgroundTaskOut(CamelModel):
    id: str
    status: BackgroundTaskStatus
    task: str = Field(description="endpoint.recover, application.purge_content, source.replay")
    updated_at: datetime
    data: dict[str, Any] = Field(description="what the task did so far")


class RecoverOut(BackgroundTaskOut):
    """Svix's RecoverOut: the recover's background task (finished: hookd recovers at once)."""


class BulkExpungeContentsIn(CamelModel):
    ids: list[str] | None = Field(
        default=None, max_length=1000, description="message ids or eventIds (at most 1000)"
    )


class BulkExpungeContentsOut(CamelModel):
    results: dict[str, Literal["expunged", "not-found"]]


class EndpointStatsOut(CamelModel):
    success: int
    pending: int
    sending: int
    fail: int
    canceled: int


class EventTypeIn(CamelModel):
    name: str = Field(min_length=1, max_length=256)
    description: str = ""
    archived: Bool | None = None
    deprecated: Bool | None = None
    schemas: dict[str, dict[str, Any]] | None = None
    feature_flags: list[str] | None = None
    group_name: str | None = None


class EventTypeUpdate(CamelModel):
    description: str = ""
    archived: Bool | None = None
    deprecated: Bool | None = None
    schemas: dict[str, dict[str, Any]] | None = None
    feature_flags: list[str] | None = None
    group_name: str | None = None


class EventTypePatch(CamelModel):
    description: str | None = None
    archived: Bool | None = None
    deprecated: Bool | None = None
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
    nul_allowed = frozenset({"payload", "payload_versions"})

    event_type: str
    payload: dict[str, Any]
    event_id: str | None = None
    channels: list[str] | None = None
    tags: list[str] | None = None
    application: ApplicationIn | None = None
    # Svix's server validates range(min = 5, max = 90), default 90.
    payload_retention_period: int | None = Field(
        default=None, ge=5, le=90, description="days to keep the payload (default 90)"
    )
    payload_retention_hours: int | None = Field(
        default=None,
        ge=1,
        le=90 * 24,
        description="hours to keep the payload; exclusive with payloadRetentionPeriod",
    )
    payload_versions: dict[Annotated[int, Field(ge=1, le=INT32_MAX)], dict[str, Any]] | None = (
        Field(
            default=None,
            description="other versions of the payload, by version number, for pinned endpoints",
        )
    )
    payload_version: int | None = Field(
        default=None,
        ge=1,
        le=INT32_MAX,
        description="the version of payload (default: the event type's latest schema version, "
        "or one above payloadVersions)",
    )
    deliver_at: Time | None = Field(
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
    deliver_at: datetime | None = None
    payload_version: int = 1


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
    attempt_number: int = Field(
        description="which attempt of its delivery this was, from 1 (not part of Svix's API)"
    )
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
