"""The message log and a message's page, read in one snapshot each with a bounded number of
indexed queries, whatever the number of messages (the console's; the API's list routes are
``services.messages.crud`` and ``services.attempts``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hookd import ids
from hookd.core.domain import (
    Attempt,
    DeliveryStatus,
    Endpoint,
    Message,
    MessageDelivery,
    Page,
)
from hookd.services.applications import require_app
from hookd.services.context import Context
from hookd.services.endpoints.crud import require_endpoint
from hookd.services.errors import Invalid, NotFound
from hookd.store import attempts as attempt_store
from hookd.store import endpoints as endpoint_store
from hookd.store import message_deliveries
from hookd.store import messages as store

# A message page shows this many attempts (newest first) and destinations at most.
ATTEMPTS_SHOWN = 100
DESTINATIONS_SHOWN = 100
# A status filter without an endpoint reads each endpoint's deliveries with that status (one
# index range each): for an application with at most this many endpoints.
STATUS_ENDPOINTS = 20


async def message_log(
    ctx: Context,
    app_id: str,
    *,
    iterator: str | None,
    limit: int,
    event_types: list[str] | None = None,
    channel: str | None = None,
    tag: str | None = None,
    before: datetime | None = None,
    after: datetime | None = None,
    endpoint_id: str | None = None,
    status: DeliveryStatus | None = None,
) -> Page[tuple[Message, list[MessageDelivery]]]:
    """A page of the application's messages, newest first, each with its deliveries: two
    indexed queries besides the application's. With ``endpoint_id``, the messages routed to
    that endpoint with their delivery there (``status`` filters on it). A ``status`` without
    an endpoint reads each endpoint's deliveries with that status and merges them (one indexed
    query per endpoint; refused beyond ``STATUS_ENDPOINTS`` endpoints: over the log itself a
    rare status could make one page scan every message)."""
    before_id = ids.floor_id(ids.MESSAGE, before) if before else None
    after_id = ids.floor_id(ids.MESSAGE, after) if after else None
    async with ctx.db.read() as conn:
        app = await require_app(conn, app_id)
        if endpoint_id is not None:
            endpoint = await require_endpoint(conn, app.id, endpoint_id)
            routed = await message_deliveries.endpoint_messages(
                conn,
                endpoint.id,
                iterator=iterator,
                limit=limit,
                status=status,
                before_id=before_id,
                after_id=after_id,
                event_types=event_types,
                channel=channel,
                tag=tag,
            )
            pairs = [(message, [delivery]) for message, delivery in routed.items]
            return Page(pairs, routed.iterator, routed.prev_iterator, routed.done)
        if status is not None:
            listed = await endpoint_store.list_endpoints(
                conn, app.id, iterator=None, limit=STATUS_ENDPOINTS + 1, descending=False
            )
            if len(listed.items) > STATUS_ENDPOINTS:
                raise Invalid(
                    f"this application has more than {STATUS_ENDPOINTS} endpoints: filtering by "
                    "status needs an endpoint",
                    loc=("query", "status"),
                )
            pages = [
                await message_deliveries.endpoint_messages(
                    conn,
                    endpoint.id,
                    iterator=iterator,
                    limit=limit,
                    status=status,
                    before_id=before_id,
                    after_id=after_id,
                    event_types=event_types,
                    channel=channel,
                    tag=tag,
                )
                for endpoint in listed.items
            ]
            return _by_message(pages, iterator, limit)
        page = await store.list_messages(
            conn,
            app.id,
            iterator=iterator,
            limit=limit,
            event_types=event_types,
            channel=channel,
            before_id=before_id,
            after_id=after_id,
            tag=tag,
            descending=True,
        )
        found = await message_deliveries.deliveries_of(conn, [m.id for m in page.items])
    items = [(message, found[message.id]) for message in page.items]
    return Page(items, page.iterator, page.prev_iterator, page.done)


def _by_message(
    pages: list[Page[tuple[Message, MessageDelivery]]], iterator: str | None, limit: int
) -> Page[tuple[Message, list[MessageDelivery]]]:
    """One newest-first page of messages out of the same page of several endpoints' lists,
    each message once with its deliveries there. A message among the page's ``limit`` is
    among the first ``limit`` of each endpoint that has it, so none of its deliveries is
    missed."""
    grouped: dict[str, tuple[Message, list[MessageDelivery]]] = {}
    for page in pages:
        for message, delivery in page.items:
            grouped.setdefault(message.id, (message, []))[1].append(delivery)
    found = sorted(grouped.values(), key=lambda pair: pair[0].id, reverse=True)
    backwards = bool(iterator and iterator.startswith("-"))
    more = len(found) > limit or any(not page.done for page in pages)
    items = found[-limit:] if backwards else found[:limit]
    if not items:
        return Page(items, iterator, iterator, True)
    return Page(items, items[-1][0].id, f"-{items[0][0].id}", False if backwards else not more)


@dataclass(frozen=True, slots=True)
class MessageView:
    message: Message
    destinations: list[tuple[Endpoint, MessageDelivery]]
    attempts: list[Attempt]  # newest first, at most ATTEMPTS_SHOWN
    more_attempts: bool  # older attempts exist beyond those


async def message_view(ctx: Context, app_id: str, ref: str) -> MessageView:
    """A message (by id or ``eventId``), where it was routed and its latest attempts: four
    indexed queries."""
    async with ctx.db.read() as conn:
        app = await require_app(conn, app_id)
        message = await store.get_message(conn, app.id, ref)
        if message is None:
            raise NotFound(f"message {ref!r} not found")
        destinations = await message_deliveries.message_destinations(
            conn, message.id, iterator=None, limit=DESTINATIONS_SHOWN
        )
        attempts = await attempt_store.list_attempts(
            conn, app.id, iterator=None, limit=ATTEMPTS_SHOWN, msg_id=message.id
        )
    return MessageView(message, destinations.items, attempts.items, not attempts.done)
