"""Fan-out: write a new message and one delivery per endpoint that takes it, in one transaction.

Shared by outbound messages (``services.messages.crud``) and ingested requests
(``services.ingest.receive``);
each decides which endpoints take the message (``filterTypes``, channels, and the endpoints'
JSON filters through ``matching``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd import ids
from hookd.core.domain import Endpoint, Message
from hookd.core.fanout import subscribed
from hookd.core.filters.match import Filter, FilterError, compile_filter, json_or_text, message_view
from hookd.store import deliveries
from hookd.store import endpoints as endpoint_store
from hookd.store import messages as message_store
from hookd.store.codec import to_ms

log = structlog.get_logger("hookd.fanout")

FILTER_CACHE_SIZE = 4096
# Compiled once per version of an endpoint (its id and updated_at), not once per message.
_compiled: dict[tuple[str, datetime], Filter | None] = {}

Choose = Callable[[list[Endpoint]], list[Endpoint]]


async def persist_with_deliveries(
    conn: AsyncConnection,
    message: Message,
    choose: Choose,
    *,
    payload_retention_days: int = message_store.DEFAULT_PAYLOAD_RETENTION_DAYS,
) -> int:
    """Insert ``message`` and a delivery to each endpoint ``choose`` keeps; return that count."""
    await message_store.insert_message(
        conn, message, payload_retention_hours=payload_retention_days * 24
    )
    targets = choose(await endpoint_store.app_endpoints(conn, message.app_id))
    await deliveries.insert_deliveries(conn, delivery_rows(message, targets))
    return len(targets)


def delivery_rows(message: Message, targets: Sequence[Endpoint]) -> list[dict[str, Any]]:
    """One pending delivery row per target, due at once."""
    now = message.created_at
    return deliveries.new_delivery_rows(
        [ids.new_id(ids.DELIVERY, now) for _ in targets],
        message.id,
        message.app_id,
        [endpoint.id for endpoint in targets],
        to_ms(now),
    )


def outbound_targets(message: Message, endpoints: Sequence[Endpoint]) -> list[Endpoint]:
    """Svix's rule (enabled, ``filterTypes``, channels), then each endpoint's JSON filter."""

    def view() -> object:
        body = json_or_text(message.payload or b"")
        return message_view(payload=body, event_type=message.event_type, channels=message.channels)

    return matching(subscribed(endpoints, message.event_type, message.channels), view)


def matching(endpoints: Sequence[Endpoint], view: Callable[[], object]) -> list[Endpoint]:
    """The endpoints without a filter or whose filter matches; ``view()`` runs only if needed."""
    if all(endpoint.filter is None for endpoint in endpoints):
        return list(endpoints)
    data = view()
    return [endpoint for endpoint in endpoints if _matches(endpoint, data)]


def _matches(endpoint: Endpoint, data: object) -> bool:
    if endpoint.filter is None:
        return True
    key = (endpoint.id, endpoint.updated_at)
    if key not in _compiled:
        if len(_compiled) >= FILTER_CACHE_SIZE:
            _compiled.clear()
        _compiled[key] = _compile(endpoint)
    compiled = _compiled[key]
    return compiled is not None and compiled.matches(data)


def _compile(endpoint: Endpoint) -> Filter | None:
    assert endpoint.filter is not None
    try:
        return compile_filter(endpoint.filter)
    except FilterError as exc:
        # Saved filters were valid; only a newer hookd reading an older one gets here. Deliver
        # nothing rather than everything: the filter exists to keep messages away.
        log.warning("endpoint filter no longer valid", endpoint=endpoint.id, error=str(exc))
        return None
