"""Domain objects to Svix-shaped JSON, written once with orjson.

Message payloads are embedded as the exact stored bytes (``orjson.Fragment``), never re-parsed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from fastapi.responses import Response

from hookd.api.calls.serialize import call_settings_out
from hookd.core.domain import (
    Application,
    Attempt,
    BackgroundTask,
    DeliveryStatus,
    Endpoint,
    EndpointHealth,
    EndpointStats,
    EventType,
    Message,
    MessageDelivery,
    Page,
)
from hookd.core.masking import has_password, mask_url
from hookd.core.signing import Ed25519Key, parse_signing_key
from hookd.services.endpoints.crud import SENSITIVE_HEADERS

T = TypeVar("T")
EMPTY_OBJECT = orjson.Fragment(b"{}")


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return self.render_content(content)

    @staticmethod
    def render_content(content: Any) -> bytes:
        """The body a JSON response of ``content`` carries."""
        return orjson.dumps(content, option=orjson.OPT_UTC_Z)


def app_out(app: Application) -> dict[str, Any]:
    return {
        "id": app.id,
        "uid": app.uid,
        "name": app.name,
        "rateLimit": app.rate_limit,
        "throttleRate": app.rate_limit,
        "metadata": app.metadata,
        "createdAt": app.created_at,
        "updatedAt": app.updated_at,
    }


def endpoint_out(ep: Endpoint) -> dict[str, Any]:
    types = list(ep.filter_types) if ep.filter_types is not None else None
    return {
        "id": ep.id,
        "uid": ep.uid,
        "url": mask_url(ep.url),
        "description": ep.description,
        # Svix's SDKs expect an integer (default 1); versionPinned tells "latest" from a pin.
        "version": ep.version or 1,
        "versionPinned": ep.version is not None,
        "thin": ep.thin,
        "disabled": ep.disabled,
        "filterTypes": types,
        "eventTypes": types,
        "channels": list(ep.channels) if ep.channels is not None else None,
        "rateLimit": ep.rate_limit,
        "throttleRate": ep.rate_limit,
        "metadata": ep.metadata,
        "filter": ep.filter,
        "transformation": None
        if ep.transformation is None
        else {"code": ep.transformation.code, "enabled": ep.transformation.enabled},
        "createdAt": ep.created_at,
        "updatedAt": ep.updated_at,
        **call_settings_out(ep),
        "fifo": ep.fifo,
        "batchSize": ep.batch_size,
        "batchMaxWaitMs": ep.batch_max_wait_ms,
        "traceContext": ep.trace_context,
    }


def transformation_out(ep: Endpoint) -> dict[str, Any]:
    """Svix's ``EndpointTransformationOut``: the code (or null) and whether it runs."""
    rule = ep.transformation
    return {"code": None if rule is None else rule.code, "enabled": bool(rule and rule.enabled)}


def secret_out(secret: str, url: str | None = None) -> dict[str, str | None]:
    """An endpoint's signing secret, with the public key of an Ed25519 one; with ``url``, also
    the endpoint's URL in clear when it carries a password (a broker's credentials)."""
    key = parse_signing_key(secret)
    public = key.public_secret if isinstance(key, Ed25519Key) else None
    out = {"key": secret, "publicKey": public}
    if url is not None:
        out["url"] = url if has_password(url) else None
    return out


def headers_out(headers: dict[str, str]) -> dict[str, object]:
    """An endpoint's custom headers; sensitive ones are listed by name only."""
    sensitive = sorted(name for name in headers if name.lower() in SENSITIVE_HEADERS)
    shown = {name: value for name, value in headers.items() if name not in sensitive}
    return {"headers": shown, "sensitive": sensitive}


def event_type_out(et: EventType, *, with_schemas: bool = True) -> dict[str, Any]:
    return {
        "name": et.name,
        "description": et.description,
        "archived": et.archived,
        "deprecated": et.deprecated,
        "schemas": et.schemas if with_schemas else None,
        "featureFlags": list(et.feature_flags),
        "groupName": et.group_name,
        "createdAt": et.created_at,
        "updatedAt": et.updated_at,
    }


def _payload(msg: Message) -> orjson.Fragment:
    """The stored bytes as they are, or ``{}`` when an ingested body is not a JSON object."""
    if not msg.payload:
        return EMPTY_OBJECT
    if msg.content_type is not None and not is_json_object(msg.payload):
        return EMPTY_OBJECT  # the ingest API shows the raw body
    return orjson.Fragment(msg.payload)


def is_json_object(body: bytes) -> bool:
    """Only JSON objects fit Svix's ``payload`` (the SDKs parse it as a dict)."""
    if not body.lstrip().startswith(b"{"):
        return False
    try:
        return isinstance(orjson.loads(body), dict)
    except orjson.JSONDecodeError:
        return False


def message_out(msg: Message, *, with_content: bool = True) -> dict[str, Any]:
    payload = _payload(msg) if with_content else EMPTY_OBJECT
    return {
        "id": msg.id,
        "eventType": msg.event_type,
        "eventId": msg.event_id,
        "payload": payload,
        "channels": list(msg.channels) if msg.channels is not None else None,
        "tags": list(msg.tags) if msg.tags is not None else None,
        "timestamp": msg.created_at,
        "deliverAt": msg.deliver_at,
        "payloadVersion": msg.version,
    }


def attempt_out(attempt: Attempt, msg: Message | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": attempt.id,
        "msgId": attempt.msg_id,
        "endpointId": attempt.endpoint_id,
        "url": mask_url(attempt.url),
        "status": int(attempt.status),
        "statusText": attempt.status.text,
        "response": attempt.response,
        "responseStatusCode": attempt.response_status_code,
        "responseDurationMs": attempt.response_duration_ms,
        "triggerType": int(attempt.trigger_type),
        "attemptNumber": attempt.attempt_number,
        "timestamp": attempt.created_at,
    }
    if msg is not None:
        out["msg"] = message_out(msg)
    return out


def _delivery_fields(delivery: MessageDelivery) -> dict[str, Any]:
    return {
        "status": int(delivery.status),
        "statusText": delivery.status.text,
        "nextAttempt": delivery.next_attempt_at
        if delivery.status == DeliveryStatus.PENDING
        else None,
    }


def message_endpoint_out(pair: tuple[Endpoint, MessageDelivery]) -> dict[str, Any]:
    return {**endpoint_out(pair[0]), **_delivery_fields(pair[1])}


def endpoint_message_out(
    pair: tuple[Message, MessageDelivery], *, with_content: bool = True
) -> dict[str, Any]:
    return {**message_out(pair[0], with_content=with_content), **_delivery_fields(pair[1])}


def health_out(endpoint: Endpoint, view: EndpointHealth) -> dict[str, Any]:
    health = view.health
    return {
        "state": health.state(disabled=endpoint.disabled).value,
        "consecutiveFailures": health.failures,
        "failingSince": health.first_failure_at,
        "nextProbeAt": None if endpoint.disabled else health.open_until,
        "inFlight": view.in_flight,
    }


def stats_out(stats: EndpointStats) -> dict[str, int]:
    return {
        "success": stats.success,
        "pending": stats.pending,
        "sending": stats.sending,
        "fail": stats.fail,
        "canceled": stats.canceled,
    }


def page_out(page: Page[T], item: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    return {
        "data": [item(entry) for entry in page.items],
        "iterator": page.iterator,
        "prevIterator": page.prev_iterator,
        "done": page.done,
    }


def task_out(task: BackgroundTask) -> dict[str, Any]:
    """A background task (Svix's ``BackgroundTaskOut``)."""
    return {
        "id": task.id,
        "status": task.status,
        "task": task.task,
        "updatedAt": task.updated_at,
        "data": task.data,
    }
