"""Domain objects: what hookd stores and reasons about. Immutable; I/O lives elsewhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any, Generic, Literal, TypeVar

from hookd.core.breaker import Health
from hookd.core.calls.plan import CallSettings
from hookd.core.endpoint_auth import ClientTls, EndpointAuth


class DeliveryStatus(IntEnum):
    """Status of a message towards one endpoint (Svix's numbering)."""

    SUCCESS = 0
    PENDING = 1
    FAIL = 2
    SENDING = 3
    CANCELED = 4

    @property
    def text(self) -> str:
        return self.name.lower()


class TriggerType(IntEnum):
    """Why an attempt was made."""

    SCHEDULED = 0
    MANUAL = 1


@dataclass(frozen=True, slots=True)
class Application:
    id: str
    uid: str | None
    name: str
    rate_limit: int | None
    metadata: dict[str, str]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class OldSecret:
    """A rotated-out key that keeps co-signing until ``expires_at``."""

    secret: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class EndpointTransformation:
    """JavaScript run on each delivery to this endpoint (``hookd.core.transformations``)."""

    code: str
    enabled: bool


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    app_id: str
    uid: str | None
    url: str
    description: str
    version: int | None  # the payload version the endpoint is pinned to; None: the latest
    disabled: bool
    filter_types: tuple[str, ...] | None
    channels: tuple[str, ...] | None
    rate_limit: int | None
    metadata: dict[str, str]
    headers: dict[str, str]
    secret: str
    old_secrets: tuple[OldSecret, ...]
    created_at: datetime
    updated_at: datetime
    # Synchronous calls (hookd.core.calls.plan) and how hookd authenticates to the endpoint.
    call: CallSettings = field(default_factory=CallSettings)
    auth: EndpointAuth | None = None
    tls: ClientTls | None = None
    thin: bool = False  # receive {id, type, timestamp, url} with a signed link to the payload
    # A JSON operator filter (``hookd.core.filters.match``): only matching messages are delivered.
    filter: dict[str, object] | None = None
    transformation: EndpointTransformation | None = None
    fifo: bool = False  # one delivery in flight; the next waits for success or dead letter
    batch_size: int | None = None  # up to this many messages per POST (a JSON array)
    batch_max_wait_ms: int | None = None  # how long the oldest due message may wait for more
    # Send W3C trace context (traceparent, tracestate) with each request when tracing is on.
    trace_context: bool = True

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret and every rotated-out one still inside its grace period."""
        return [self.secret] + [old.secret for old in self.old_secrets if old.expires_at > now]


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    description: str
    schemas: dict[str, object] | None
    archived: bool
    deprecated: bool
    feature_flags: tuple[str, ...]
    group_name: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    app_id: str
    event_type: str
    event_id: str | None
    channels: tuple[str, ...] | None
    tags: tuple[str, ...] | None
    payload: bytes | None  # the exact bytes accepted, signed and sent; None once expunged
    created_at: datetime
    # Ingested messages: the original Content-Type and the request headers that are forwarded.
    content_type: str | None = None
    headers: dict[str, str] | None = None
    # The version of ``payload``, and the exact bytes of the other versions the producer sent.
    version: int = 1
    payload_versions: dict[int, bytes] | None = None
    deliver_at: datetime | None = None  # the producer's ``deliverAt``, echoed back
    # The W3C trace context of the span that created it (hookd.tracing), when tracing was on:
    # its attempts continue that trace, in whichever process and however late they run.
    traceparent: str | None = None
    tracestate: str | None = None
    # The X-Request-Id of the request that created it (api.request_log), for the logs only.
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    id: str
    msg_id: str
    endpoint_id: str
    app_id: str
    url: str
    status: DeliveryStatus
    response_status_code: int
    response: str
    response_duration_ms: int
    trigger_type: TriggerType
    attempt_number: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MessageDelivery:
    """Where one message stands towards one endpoint."""

    msg_id: str
    endpoint_id: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class EndpointStats:
    success: int = 0
    pending: int = 0
    sending: int = 0
    fail: int = 0
    canceled: int = 0
    extra: dict[str, int] = field(default_factory=dict)


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class EndpointHealth:
    health: Health
    in_flight: int
    ready_at: datetime | None


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery the worker now holds."""

    id: str
    msg_id: str
    endpoint_id: str
    app_id: str
    attempts: int
    manual: bool
    failing: bool = False  # its endpoint had failed lately (counts against the failing share)


@dataclass(frozen=True, slots=True)
class ListQuery:
    """What a list request asks for: ``limit`` items after Svix's cursor ``iterator`` (one
    starting with ``-`` pages backwards) in ``order`` (None: the list's own), and the filters
    lists share: a delivery ``status``, and ids created ``before`` or ``after`` a time.

    The API sets only the filters a list offers; the others stay None."""

    limit: int
    iterator: str | None = None
    order: Literal["ascending", "descending"] | None = None
    status: DeliveryStatus | None = None
    before: datetime | None = None
    after: datetime | None = None

    def descending(self, default: bool) -> bool:
        """Newest first? ``default`` (the list's own order) unless the client chose one."""
        return default if self.order is None else self.order == "descending"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    iterator: str | None
    prev_iterator: str | None
    done: bool


@dataclass(frozen=True, slots=True)
class BackgroundTask:
    id: str
    task: str  # Svix's task type, e.g. endpoint.recover, application.purge_content
    status: str  # running, finished or failed
    app_id: str | None
    data: dict[str, Any]  # what the task did so far (its progress while running)
    created_at: datetime
    updated_at: datetime  # a running task's heartbeat


@dataclass(frozen=True, slots=True)
class StaticResponse:
    """What an accepted (or duplicate) request is answered with."""

    status: int
    content_type: str | None
    body: bytes


@dataclass(frozen=True, slots=True)
class Source:
    """A source; ``id`` is also the id of the application its endpoints belong to."""

    id: str
    uid: str | None
    name: str
    type: str
    provider: str
    config: dict[str, Any]
    token: str
    metadata: dict[str, str]
    response: StaticResponse | None  # None: the provider's default answer
    dedup_window_seconds: int | None  # None: the server's default
    created_at: datetime
    updated_at: datetime


# What became of an inbound request (InboundRecord.outcome).
ACCEPTED, DUPLICATE, REJECTED, HANDSHAKE = "accepted", "duplicate", "rejected", "handshake"
OUTCOMES = (ACCEPTED, DUPLICATE, REJECTED, HANDSHAKE)


@dataclass(frozen=True, slots=True)
class InboundRecord:
    id: str
    source_id: str
    received_at: datetime
    method: str
    url: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    remote_ip: str | None
    outcome: str
    code: str
    reason: str
    response_status: int
    dedup_key: str | None
    event_type: str | None
    msg_id: str | None
    # Only the first bytes of a rejected request's body are kept: then its full size.
    body_size: int | None = None
    # Rejections from one address coalesced into this record: how many, the last one's time.
    request_count: int = 1
    last_received_at: datetime | None = None
