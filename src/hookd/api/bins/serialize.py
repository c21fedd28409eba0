"""Bins and their captured requests to JSON."""

from __future__ import annotations

import base64
from typing import Any

from hookd.core.delivery import AttemptResult
from hookd.core.domain import InboundRecord, Source
from hookd.services.bins.bins import capture_url, config_of
from hookd.services.context import Context


def bin_out(ctx: Context, source: Source) -> dict[str, Any]:
    config = config_of(source)
    answer = config.answer
    return {
        "id": source.id,
        "uid": source.uid,
        "name": source.name,
        "url": capture_url(ctx, source),
        "answer": {
            "statusCode": answer.status,
            "headers": dict(answer.headers),
            "body": answer.body.decode("utf-8"),
            "delayMs": answer.delay_ms,
        },
        "ttlSeconds": config.ttl_seconds,
        "maxRequests": ctx.settings.bin_max_requests,
        "maxBodyBytes": ctx.settings.bin_max_body_bytes,
        "metadata": source.metadata,
        "createdAt": source.created_at,
        "updatedAt": source.updated_at,
    }


def _text(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def sub_path(path: str) -> str:
    """``/in/{token}/a/b`` -> ``/a/b``; the capture URL itself -> ``""`` (whatever the token
    is now: a rotated one does not change what was captured)."""
    parts = path.split("/", 3)  # "", "in", token, rest
    return "/" + parts[3] if len(parts) == 4 else ""


def request_out(record: InboundRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "binId": record.source_id,
        "receivedAt": record.received_at,
        "method": record.method,
        "path": sub_path(record.path),
        "query": record.query,
        "url": record.url,
        "headers": [list(pair) for pair in record.headers],
        "body": base64.b64encode(record.body).decode("ascii"),
        "bodyText": _text(record.body),
        "bodySize": len(record.body),
        "remoteIp": record.remote_ip,
        "responseStatusCode": record.response_status,
    }


def replay_out(result: AttemptResult) -> dict[str, Any]:
    return {
        "statusCode": result.status_code,
        "headers": [list(pair) for pair in result.headers],
        "body": base64.b64encode(result.body).decode("ascii"),
        "bodyText": _text(result.body),
        "durationMs": result.duration_ms,
        "error": result.error,
    }
