"""Batch webhooks: several messages in one POST, as a JSON array, signed once.

Pure: which messages go together is the scheduler's choice; this module says when a partial
batch should still wait for more and what the body looks like.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import orjson

from hookd.core.domain import Message

DEFAULT_MAX_WAIT_MS = 1000
# The webhook-id of a batch request (each message inside keeps its own id).
BATCH_ID_PREFIX = "batch_"


def is_batched(batch_size: int | None, fifo: bool) -> bool:
    """Whether an endpoint gets batches (a FIFO endpoint never does: one message at a time)."""
    return batch_size is not None and batch_size > 1 and not fifo


def wait_until(
    due_count: int, oldest_due: datetime | None, size: int, max_wait_ms: int, now: datetime
) -> datetime | None:
    """When a partial batch should go at the latest; None: send what is due now."""
    if due_count == 0 or due_count >= size or oldest_due is None:
        return None
    deadline = oldest_due + timedelta(milliseconds=max_wait_ms)
    return deadline if deadline > now else None


def _payload(message: Message) -> orjson.Fragment | str:
    body = message.payload or b"{}"
    if message.content_type is None:
        return orjson.Fragment(body)  # accepted through the API: always a JSON object
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", errors="replace")  # an ingested non-JSON body, as text
    return orjson.Fragment(body)


def batch_body(messages: Sequence[Message]) -> bytes:
    """A JSON array of messages in Svix's message shape; payloads embedded as the stored bytes."""
    return orjson.dumps(
        [
            {
                "id": message.id,
                "eventType": message.event_type,
                "eventId": message.event_id,
                "timestamp": message.created_at,
                "payload": _payload(message),
            }
            for message in messages
        ],
        option=orjson.OPT_UTC_Z,
    )
