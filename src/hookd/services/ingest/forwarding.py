"""What a request to ``/in/{source}`` becomes: its record and, once accepted, a message of its
source's application with its deliveries.

``persist_message`` writes one message (replays). ``store_request`` writes what ``/in/{source}``
receives with group commit (``store.group_commit``): the requests of a moment share one
transaction, run by ``Database.run_write`` (on SQLite: one synchronous transaction), with one
insert per table for the whole group and one query for its duplicate check. With one
transaction per request, every request would wait for the round trips of all the others (SQLite
has one writer, and PostgreSQL pays a commit each). A request is answered only after the
transaction holding it committed, so nothing acknowledged is lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd import ids
from hookd.core import domain
from hookd.core.domain import Endpoint, InboundRecord, Message, Source
from hookd.core.fanout import subscribed
from hookd.core.filters.match import json_or_text, request_view
from hookd.core.providers.redaction import REDACTED
from hookd.core.transformations import query_object
from hookd.services.context import Context
from hookd.services.ingest import tail
from hookd.services.messages.fanout import delivery_rows, matching, persist_with_deliveries
from hookd.store import rollups
from hookd.store.codec import to_ms
from hookd.store.config_cache import ConfigCache, endpoints_of
from hookd.store.group_commit import PerDatabase
from hookd.store.ingest import inbound_requests as records
from hookd.store.message_writes import insert_rows
from hookd.store.messages import message_values
from hookd.store.row_inserts import insert_many
from hookd.store.schema import messages
from hookd.telemetry import REQUEST_ID
from hookd.tracing import TraceContext

# Request headers that describe the hop to hookd, or that hookd sets itself when forwarding.
NOT_FORWARDED = frozenset(
    {
        "host",
        "content-length",
        "content-type",  # forwarded separately, as the message's content type
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "proxy-authorization",
        "proxy-connection",
        "accept-encoding",  # hookd's HTTP client negotiates its own
        # The credential that proved the request to hookd; endpoints get hookd's signature.
        "authorization",
    }
)
NOT_FORWARDED_PREFIXES = ("webhook-", "svix-")
UNKNOWN_EVENT = "unknown"
DUPLICATE_REASON = "a request with the same provider id was accepted within the window"


def text_safe(value: str) -> str:
    """PostgreSQL text cannot hold NUL; a provider's id or type may (garbage or an attack)."""
    return value.replace("\x00", "\ufffd")


def forwarded_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The request headers an endpoint receives; repeated names are joined as HTTP allows."""
    kept: dict[str, str] = {}
    for name, value in pairs:
        lower = name.lower()
        if lower in NOT_FORWARDED or lower.startswith(NOT_FORWARDED_PREFIXES):
            continue
        if value == REDACTED:  # a credential of the source's (core.providers.redaction)
            continue
        kept[lower] = f"{kept[lower]}, {value}" if lower in kept else value
    return kept


def message_for(
    source: Source,
    record: InboundRecord,
    now: datetime,
    trace: TraceContext | None = None,
    request_id: str | None = None,
) -> Message:
    """The message an accepted request becomes; ``trace``: its ingest span's (tracing on);
    ``request_id``: the request that made it (the ``/in/`` request, or a replay's)."""
    content_type = next((v for n, v in record.headers if n.lower() == "content-type"), None)
    return Message(
        id=ids.new_id(ids.MESSAGE, now),
        app_id=source.id,
        event_type=text_safe(record.event_type or f"{source.provider}.{UNKNOWN_EVENT}"),
        event_id=None,  # provider ids repeat after the dedup window; they live on the record
        channels=None,
        tags=None,
        payload=record.body,
        created_at=now,
        content_type=content_type or "application/octet-stream",
        headers=forwarded_headers(record.headers),
        traceparent=None if trace is None else trace.traceparent,
        tracestate=None if trace is None else trace.tracestate,
        request_id=request_id,
    )


def forwarding_targets(
    endpoints: Iterable[Endpoint], event_type: str, record: InboundRecord
) -> list[Endpoint]:
    """The forwarding endpoints an ingested request goes to: Svix's rule (enabled,
    ``filterTypes``), then each endpoint's JSON filter on the request's body, headers, query
    and path."""
    return matching(subscribed(endpoints, event_type, None), lambda: inbound_view(record))


def inbound_view(record: InboundRecord) -> dict[str, object]:
    """What a forwarding endpoint's filter sees: body, headers, query and path."""
    return request_view(
        body=json_or_text(record.body),
        headers=dict(record.headers),
        query=query_object(record.query),
        path=record.path,
    )


async def persist_message(
    conn: AsyncConnection, source: Source, record: InboundRecord, now: datetime
) -> tuple[Message, int]:
    """Write the message of an accepted request and its deliveries; return it and the count."""
    message = message_for(source, record, now, request_id=REQUEST_ID.get())
    count = await persist_with_deliveries(
        conn, message, lambda endpoints: forwarding_targets(endpoints, message.event_type, record)
    )
    return message, count


@dataclass(frozen=True, slots=True)
class Arrival:
    """A request to store as ``record`` says. An accepted one also becomes a message with its
    deliveries, unless its provider id was accepted at or after ``dedup_since`` (None: no
    duplicate check); then it is stored as a duplicate. With ``repeat_of``, only counted on
    that earlier record of the same rejection."""

    source: Source
    record: InboundRecord
    dedup_since: datetime | None = None
    # A coalesced rejection: counted on this earlier record instead of stored.
    repeat_of: str | None = None
    # The trace context its message keeps: the request's ingest span's (tracing on).
    trace: TraceContext | None = None
    request_id: str | None = None  # the /in/ request's id, kept on its message


# What a request was stored as (its outcome: accepted, duplicate, ...) and deliveries queued.
Stored = tuple[str, int]
DUPLICATE = {"outcome": domain.DUPLICATE, "code": "duplicate", "reason": DUPLICATE_REASON}


async def store_request(ctx: Context, arrival: Arrival) -> Stored:
    """Store ``arrival`` with the requests arriving beside it; return once it committed (and
    wake the source's live followers, ``tail``)."""
    stored = await _arrivals.submit(
        ctx.db,
        arrival,
        sole_process=ctx.settings.role == "all",
        telemetry=ctx.telemetry,
        tracing=ctx.tracing,
    )
    tail.announce(ctx.db, arrival.source.id)
    return stored


def store_group(
    conn: Connection, group: Sequence[Arrival], cache: ConfigCache | None
) -> list[Stored | Exception]:
    """Write ``group`` in ``conn``'s transaction, one statement per table; one outcome each.

    The duplicate check is one query for the whole group, and a provider id repeated inside the
    group counts as well: only its first request becomes a message.
    """
    seen = records.last_accepted(conn, _dedup_keys(group), _earliest_since(group))
    stored: list[Stored | Exception] = []
    record_rows: list[dict[str, Any]] = []
    message_rows: list[dict[str, Any]] = []
    deliveries: list[dict[str, Any]] = []
    repeats: list[tuple[str, datetime]] = []
    for arrival in group:
        record, since = arrival.record, arrival.dedup_since
        if arrival.repeat_of is not None:
            repeats.append((arrival.repeat_of, record.received_at))
            stored.append((record.outcome, 0))
            continue
        row = records.record_values(record)
        record_rows.append(row)
        if record.outcome != domain.ACCEPTED:
            stored.append((record.outcome, 0))
            continue
        if since is not None and record.dedup_key is not None:
            key = (record.source_id, record.dedup_key)
            if key in seen and seen[key] >= since:
                row.update(DUPLICATE)
                stored.append((domain.DUPLICATE, 0))
                continue
            seen[key] = record.received_at
        message = message_for(
            arrival.source, record, record.received_at, arrival.trace, arrival.request_id
        )
        endpoints = endpoints_of(conn, message.app_id, cache)
        targets = forwarding_targets(endpoints, message.event_type, record)
        message_rows.append(message_values(message))
        if targets:
            deliveries += delivery_rows(message, targets)
        row["msg_id"] = message.id
        stored.append((domain.ACCEPTED, len(targets)))
    insert_many(conn, messages, message_rows)  # before the rows that refer to them
    insert_rows(conn, [], deliveries, [])
    records.insert_records(conn, record_rows)
    records.count_repeats(conn, repeats)  # after the inserts: a repeat's record may be new
    # Each request on its source's minute, by what it was stored as (a repeat: rejected).
    rollups.add_requests(
        conn,
        (
            (arrival.record.source_id, to_ms(arrival.record.received_at), outcome[0])
            for arrival, outcome in zip(group, stored, strict=True)
            if isinstance(outcome, tuple)
        ),
    )
    return stored


_arrivals: PerDatabase[Arrival, Stored] = PerDatabase(store_group, kind="ingest")


def _dedup_keys(group: Sequence[Arrival]) -> set[tuple[str, str]]:
    return {
        (a.record.source_id, a.record.dedup_key)
        for a in group
        if a.dedup_since is not None and a.record.dedup_key is not None
    }


def _earliest_since(group: Sequence[Arrival]) -> datetime:
    return min((a.dedup_since for a in group if a.dedup_since is not None), default=datetime.max)
