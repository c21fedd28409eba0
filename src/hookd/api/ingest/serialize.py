"""Sources and inbound request records to JSON (the Ingest API's shapes)."""

from __future__ import annotations

import base64
from typing import Any

from hookd.core.domain import REJECTED, DeliveryStatus, InboundRecord, Source
from hookd.core.masking import mask_config, mask_url
from hookd.services.context import Context
from hookd.services.ingest.inbound_requests import Inspected
from hookd.services.ingest.sources import answer_for, ingest_url


def source_out(ctx: Context, source: Source) -> dict[str, Any]:
    answer = answer_for(source)
    return {
        "id": source.id,
        "uid": source.uid,
        "name": source.name,
        "type": source.type,
        "provider": source.provider,
        "config": mask_config(source.config),
        "metadata": source.metadata,
        "ingestUrl": ingest_url(ctx, source),
        "response": {
            "statusCode": answer.status,
            "contentType": answer.content_type,
            "body": answer.body.decode("utf-8", "replace"),
        },
        "dedupWindowSeconds": source.dedup_window_seconds,
        "createdAt": source.created_at,
        "updatedAt": source.updated_at,
    }


def request_out(record: InboundRecord) -> dict[str, Any]:
    verified = record.outcome != REJECTED
    return {
        "id": record.id,
        "sourceId": record.source_id,
        "receivedAt": record.received_at,
        "method": record.method,
        "url": record.url,
        "path": record.path,
        "query": record.query,
        "remoteIp": record.remote_ip,
        "outcome": record.outcome,
        "verification": {"ok": verified, "code": record.code, "reason": record.reason},
        "responseStatusCode": record.response_status,
        "eventType": record.event_type,
        "dedupKey": record.dedup_key,
        "msgId": record.msg_id,
        "bodySize": len(record.body) if record.body_size is None else record.body_size,
        "bodyTruncated": record.body_size is not None,
        "requestCount": record.request_count,
        "lastReceivedAt": record.last_received_at,
    }


def _text(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def request_detail_out(inspected: Inspected) -> dict[str, Any]:
    record = inspected.record
    return {
        **request_out(record),
        "headers": [list(pair) for pair in record.headers],
        "body": base64.b64encode(record.body).decode("ascii"),
        "bodyText": _text(record.body),
        "forwardedTo": [
            {
                "endpointId": endpoint.id,
                "url": mask_url(endpoint.url),
                "status": int(delivery.status),
                "statusText": delivery.status.text,
                "attempts": delivery.attempts,
                "nextAttempt": delivery.next_attempt_at
                if delivery.status == DeliveryStatus.PENDING
                else None,
            }
            for endpoint, delivery in inspected.destinations
        ],
    }
