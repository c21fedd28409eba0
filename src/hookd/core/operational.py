"""Operational webhooks: the events hookd sends about itself, in Svix's shapes.

Svix (OSS and Cloud) tells the product team when an endpoint changes or stops working, through
webhooks sent to "operational webhook endpoints". hookd sends the same events with the same
payloads, so code written against Svix's operational webhooks works unchanged:

- ``endpoint.created`` / ``endpoint.updated`` / ``endpoint.deleted`` / ``endpoint.enabled``
- ``endpoint.disabled`` (``trigger``: ``automatic`` when hookd disabled it, ``manual`` by the API)
- ``message.attempt.failing`` (the fourth failed attempt of a message that will be retried),
  ``message.attempt.exhausted`` (no retry left), ``message.attempt.recovered`` (a success after
  ``failing`` had been sent).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hookd.core.domain import DeliveryStatus

ENDPOINT_CREATED = "endpoint.created"
ENDPOINT_UPDATED = "endpoint.updated"
ENDPOINT_DELETED = "endpoint.deleted"
ENDPOINT_ENABLED = "endpoint.enabled"
ENDPOINT_DISABLED = "endpoint.disabled"
ATTEMPT_FAILING = "message.attempt.failing"
ATTEMPT_EXHAUSTED = "message.attempt.exhausted"
ATTEMPT_RECOVERED = "message.attempt.recovered"
EVENT_TYPES = (
    ENDPOINT_CREATED,
    ENDPOINT_UPDATED,
    ENDPOINT_DELETED,
    ENDPOINT_ENABLED,
    ENDPOINT_DISABLED,
    ATTEMPT_FAILING,
    ATTEMPT_EXHAUSTED,
    ATTEMPT_RECOVERED,
)
# Svix sends "failing" on the fourth failure of a message; a success after that is "recovered".
FAILING_AFTER_ATTEMPTS = 4

AUTOMATIC, MANUAL = "automatic", "manual"


@dataclass(frozen=True, slots=True)
class OperationalEvent:
    """One event to send to the operational webhook endpoints subscribed to ``type``."""

    type: str
    data: dict[str, Any]

    def body(self) -> dict[str, Any]:
        return {"type": self.type, "data": self.data}


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """What an attempt did to its delivery, as the worker records it."""

    app_id: str
    msg_id: str
    endpoint_id: str
    attempt_id: str
    attempt_number: int
    attempt_status: DeliveryStatus  # of the attempt: SUCCESS, FAIL or CANCELED
    delivery_status: DeliveryStatus  # of the delivery after it: PENDING (retry), FAIL, ...
    response_status_code: int
    sent_at: datetime
    manual: bool


def iso(moment: datetime) -> str:
    """Svix's timestamp form: ISO 8601 UTC with a ``Z``."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class EndpointRef:
    """Which endpoint of which application an ``endpoint.*`` event is about."""

    app_id: str
    app_uid: str | None
    endpoint_id: str
    endpoint_uid: str | None


def endpoint_event(event_type: str, ref: EndpointRef, **extra: Any) -> OperationalEvent:
    """``endpoint.*`` (``extra``: ``failSince`` and ``trigger`` of ``endpoint.disabled``)."""
    data: dict[str, Any] = {
        "appId": ref.app_id,
        "appUid": ref.app_uid,
        "endpointId": ref.endpoint_id,
        "endpointUid": ref.endpoint_uid,
    }
    return OperationalEvent(event_type, {**data, **extra})


def disabled_event(
    ref: EndpointRef, *, trigger: str, fail_since: datetime | None
) -> OperationalEvent:
    since = None if fail_since is None else iso(fail_since)
    return endpoint_event(ENDPOINT_DISABLED, ref, trigger=trigger, failSince=since)


def attempt_event_type(outcome: AttemptOutcome) -> str | None:
    """Which ``message.attempt.*`` event an attempt's outcome calls for, if any.

    Manual retries are one-off (Svix does not retry them) and say nothing; a cancelled delivery
    (a transformation chose not to send) did not fail.
    """
    if outcome.manual or outcome.attempt_status == DeliveryStatus.CANCELED:
        return None
    if outcome.attempt_status == DeliveryStatus.SUCCESS:
        return ATTEMPT_RECOVERED if outcome.attempt_number > FAILING_AFTER_ATTEMPTS else None
    if outcome.delivery_status == DeliveryStatus.FAIL:
        return ATTEMPT_EXHAUSTED
    if outcome.attempt_number == FAILING_AFTER_ATTEMPTS:
        return ATTEMPT_FAILING
    return None


def attempt_events(
    outcomes: Iterable[AttemptOutcome],
    app_uids: dict[str, str | None],
    event_ids: dict[str, str | None],
) -> list[OperationalEvent]:
    """The ``message.attempt.*`` events of a batch of outcomes, in order."""
    events = []
    for outcome in outcomes:
        event_type = attempt_event_type(outcome)
        if event_type is None:
            continue
        data = {
            "appId": outcome.app_id,
            "appUid": app_uids.get(outcome.app_id),
            "msgId": outcome.msg_id,
            "msgEventId": event_ids.get(outcome.msg_id),
            "endpointId": outcome.endpoint_id,
            "lastAttempt": {
                "id": outcome.attempt_id,
                "timestamp": iso(outcome.sent_at),
                "responseStatusCode": outcome.response_status_code,
            },
        }
        events.append(OperationalEvent(event_type, data))
    return events
