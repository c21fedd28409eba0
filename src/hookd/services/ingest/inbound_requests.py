"""A source's request records: list, inspect (with where each went), replay one or many."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from hookd import ids
from hookd.core import domain
from hookd.core.domain import (
    BackgroundTask,
    DeliveryStatus,
    Endpoint,
    InboundRecord,
    ListQuery,
    MessageDelivery,
    Page,
    Source,
)
from hookd.core.providers.request_bin import BIN
from hookd.services import background_tasks
from hookd.services.context import Context
from hookd.services.errors import Conflict, Invalid, NotFound
from hookd.services.ingest.forwarding import forwarding_targets, persist_message
from hookd.services.ingest.sources import require_source
from hookd.store import deliveries
from hookd.store import endpoints as endpoint_store
from hookd.store import messages as message_store
from hookd.store.codec import to_ms
from hookd.store.ingest import inbound_requests as records
from hookd.store.message_deliveries import message_destinations

# A bulk replay runs inside one request; a wider range is replayed by calling again.
MAX_BULK_REPLAY = 1000
MAX_DESTINATIONS_SHOWN = 250
BIN_REPLAY = (
    "a request bin forwards nothing: replay its requests to a URL with "
    "POST /api/v1/bin/{bin_id}/request/{request_id}/replay"
)


@dataclass(frozen=True, slots=True)
class Inspected:
    record: InboundRecord
    destinations: list[tuple[Endpoint, MessageDelivery]]


@dataclass(frozen=True, slots=True)
class Replayed:
    requests: int
    deliveries: int
    done: bool
    task: BackgroundTask  # recorded finished, with the counts above as its data


async def list_requests(
    ctx: Context,
    source_id: str,
    query: ListQuery,
    *,
    outcomes: list[str] | None,
) -> Page[InboundRecord]:
    """A source's requests, newest first whatever ``query.order`` says."""
    async with ctx.db.read() as conn:
        source = await require_source(conn, source_id)
        return await records.list_records(
            conn,
            source.id,
            iterator=query.iterator,
            limit=query.limit,
            outcomes=outcomes,
            after_id=ids.floor_id(ids.REQUEST, query.after),
            before_id=ids.floor_id(ids.REQUEST, query.before),
        )


async def _require_record(conn: AsyncConnection, source: Source, request_id: str) -> InboundRecord:
    record = await records.get_record(conn, source.id, request_id)
    if record is None:
        raise NotFound(f"request {request_id!r} not found")
    return record


async def inspect_request(ctx: Context, source_id: str, request_id: str) -> Inspected:
    async with ctx.db.read() as conn:
        source = await require_source(conn, source_id)
        record = await _require_record(conn, source, request_id)
        destinations: list[tuple[Endpoint, MessageDelivery]] = []
        if record.msg_id is not None:
            page = await message_destinations(
                conn, record.msg_id, iterator=None, limit=MAX_DESTINATIONS_SHOWN
            )
            destinations = page.items
    return Inspected(record, destinations)


async def _rearm(
    conn: AsyncConnection, source: Source, record: InboundRecord, msg_id: str, now: datetime
) -> int:
    """Deliver a message again to every current forwarding endpoint that takes it."""
    message = (await message_store.messages_by_id(conn, [msg_id])).get(msg_id)
    if message is None or message.payload is None:
        raise Conflict("the request's message payload was expunged", code="expunged")
    targets = forwarding_targets(
        await endpoint_store.app_endpoints(conn, source.id), message.event_type, record
    )
    now_ms = to_ms(now)
    for endpoint in targets:
        if await deliveries.get_delivery(conn, message.id, endpoint.id) is None:
            rows = deliveries.new_delivery_rows(
                [ids.new_id(ids.DELIVERY, now)],
                message.id,
                source.id,
                [endpoint.id],
                now_ms,
            )
            rows[0]["manual"] = True
            await deliveries.insert_deliveries(conn, rows)
        else:
            # An attempt in flight is left alone: it is being delivered right now.
            await deliveries.rearm(conn, endpoint_id=endpoint.id, msg_id=message.id, now_ms=now_ms)
    return len(targets)


async def _replay(
    conn: AsyncConnection,
    source: Source,
    record: InboundRecord,
    *,
    force: bool,
    now: datetime,
) -> int:
    if record.outcome == domain.HANDSHAKE:
        raise Conflict("handshakes are answered, never forwarded", code="not_replayable")
    if source.provider == BIN:
        raise Conflict(BIN_REPLAY, code="not_replayable")
    if record.msg_id is not None:
        return await _rearm(conn, source, record, record.msg_id, now)
    if record.outcome == domain.REJECTED and not force:
        raise Conflict(
            f"request {record.id} failed verification ({record.reason}); "
            "replay it with force=true to forward it anyway",
            code="not_verified",
        )
    if record.body_size is not None:
        raise Conflict(
            f"only the first {len(record.body)} of the {record.body_size} bytes of request "
            f"{record.id}'s body were kept (HOOKD_REJECTED_BODY_BYTES): it cannot be forwarded",
            code="not_replayable",
        )
    message, count = await persist_message(conn, source, record, now)
    await records.set_message(conn, record.id, message.id)
    return count


async def replay_request(ctx: Context, source_id: str, request_id: str, *, force: bool) -> int:
    """Forward one request again; return how many deliveries were queued."""
    now = ctx.clock()
    async with ctx.db.write() as conn:
        source = await require_source(conn, source_id)
        record = await _require_record(conn, source, request_id)
        count = await _replay(conn, source, record, force=force, now=now)
    if count:
        ctx.wake_worker()
    return count


async def replay_requests(
    ctx: Context,
    source_id: str,
    *,
    since: datetime,
    until: datetime | None,
    outcomes: list[str],
    status: DeliveryStatus | None,
    force: bool,
) -> Replayed:
    """Forward again every matching request received in ``[since, until)``, oldest first."""
    if until is not None and until <= since:
        raise Invalid("until must be after since", loc=("body", "until"))
    if domain.HANDSHAKE in outcomes:
        raise Invalid("handshakes are never forwarded", loc=("body", "outcomes"))
    if domain.REJECTED in outcomes and not force:
        raise Invalid(
            "replaying rejected requests forwards unverified data: set force to true",
            loc=("body", "force"),
        )
    now = ctx.clock()
    queued = replayed = 0
    async with ctx.db.write() as conn:
        source = await require_source(conn, source_id)
        if source.provider == BIN:
            raise Conflict(BIN_REPLAY, code="not_replayable")
        chosen = await records.select_records(
            conn,
            source.id,
            outcomes=outcomes,
            status=status,
            after_id=ids.floor_id(ids.REQUEST, since),
            before_id=ids.floor_id(ids.REQUEST, until),
            limit=MAX_BULK_REPLAY + 1,
        )
        for record in chosen[:MAX_BULK_REPLAY]:
            try:
                queued += await _replay(conn, source, record, force=force, now=now)
            except Conflict:
                continue  # an expunged payload: skip it, replay the rest
            replayed += 1
        done = len(chosen) <= MAX_BULK_REPLAY
        data = {"requestsReplayed": replayed, "deliveriesQueued": queued, "done": done}
        task = await background_tasks.record(
            conn, background_tasks.SOURCE_REPLAY, source.id, data, now
        )
    if queued:
        ctx.wake_worker()
    return Replayed(replayed, queued, done, task)
