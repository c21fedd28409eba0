"""Send an example event to one endpoint (Svix's ``send-example``): a message of the event
type, its payload taken from the examples of the event type's JSON Schema, delivered to that
endpoint only."""

from __future__ import annotations

from typing import Any

import orjson

from hookd import ids
from hookd.core.domain import EventType, Message
from hookd.services.applications import require_app
from hookd.services.context import Context
from hookd.services.endpoints.crud import require_endpoint
from hookd.services.errors import Invalid, NotFound
from hookd.store import deliveries
from hookd.store import event_types as event_type_store
from hookd.store import messages as message_store
from hookd.store.codec import to_ms


def example_payload(
    event_type: EventType, index: int, pinned: int | None
) -> tuple[int, dict[str, Any]]:
    """The payload version and the example at ``index`` (the first when out of range) of the
    schema of the endpoint's ``pinned`` version, else of the newest version with examples."""
    candidates: list[tuple[int, list[Any]]] = []
    for name, schema in (event_type.schemas or {}).items():
        examples = schema.get("examples") if isinstance(schema, dict) else None
        objects = [e for e in examples or () if isinstance(e, dict)]
        if objects:
            candidates.append((int(name), objects))
    if not candidates:
        raise Invalid(
            f"event type {event_type.name!r} has no example: add an 'examples' array of JSON "
            "objects to its schema",
            loc=("body", "eventType"),
            code="no_example",
        )
    by_version = dict(candidates)
    version = pinned if pinned in by_version else max(by_version)
    examples = by_version[version]
    return version, examples[index] if 0 <= index < len(examples) else examples[0]


async def send_example(
    ctx: Context, app_id: str, endpoint_id: str, event_type: str, example_index: int = 0
) -> Message:
    """Create the example message and its one delivery, to this endpoint, in one transaction."""
    now = ctx.clock()
    async with ctx.db.write() as conn:
        app = await require_app(conn, app_id)
        endpoint = await require_endpoint(conn, app.id, endpoint_id)
        found = await event_type_store.get_event_type(conn, event_type)
        if found is None or found.archived:
            raise NotFound(f"event type {event_type!r} not found")
        version, payload = example_payload(found, example_index, endpoint.version)
        message = Message(
            id=ids.new_id(ids.MESSAGE, now),
            app_id=app.id,
            event_type=found.name,
            event_id=None,
            channels=None,
            tags=None,
            payload=orjson.dumps(payload),
            created_at=now,
            version=version,
        )
        await message_store.insert_message(conn, message)
        rows = deliveries.new_delivery_rows(
            [ids.new_id(ids.DELIVERY, now)], message.id, app.id, [endpoint.id], to_ms(now)
        )
        await deliveries.insert_deliveries(conn, rows)
    ctx.wake_worker()
    return message
