"""What an accepted request becomes: a message of its source's application, and its deliveries.

``persist_message`` writes one (replays). ``IngestWriter`` writes the requests ``/in/{source}``
accepts with group commit: whatever arrives while one write transaction runs goes into the
next one, with one insert per table for the whole batch. With one transaction per request,
every request would wait for the round trips of all the others (SQLite has one writer, and
PostgreSQL pays a commit each). A request is answered only after the transaction holding it
committed, so nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hookd import ids
from hookd.core.domain import Endpoint, Message
from hookd.core.fanout import subscribed
from hookd.core.filters import json_or_text, request_view
from hookd.core.transformations import query_object
from hookd.services.fanout import delivery_rows, matching, persist_with_deliveries
from hookd.store import deliveries as queue
from hookd.store import endpoints as endpoint_store
from hookd.store import inbound_requests as records
from hookd.store import messages as message_store
from hookd.store.db import Database
from hookd.store.inbound_requests import InboundRecord
from hookd.store.sources import IngestSource

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
MAX_BATCH = 256


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
        kept[lower] = f"{kept[lower]}, {value}" if lower in kept else value
    return kept


def message_for(source: IngestSource, record: InboundRecord, now: datetime) -> Message:
    """The message an accepted request becomes."""
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
    conn: AsyncConnection, source: IngestSource, record: InboundRecord, now: datetime
) -> tuple[Message, int]:
    """Write the message of an accepted request and its deliveries; return it and the count."""
    message = message_for(source, record, now)
    count = await persist_with_deliveries(
        conn, message, lambda endpoints: forwarding_targets(endpoints, message.event_type, record)
    )
    return message, count


@dataclass(frozen=True, slots=True)
class Verified:
    """A request that passed verification. ``record`` is accepted, without a message yet;
    ``dedup_since`` is where the duplicate window starts (None: no duplicate check)."""

    source: IngestSource
    record: InboundRecord
    dedup_since: datetime | None


# What was stored for a request (accepted with its message, or duplicate) and deliveries queued.
Stored = tuple[InboundRecord, int]


class IngestWriter:
    """Group commit of verified requests for one database; ``ingest_writer`` finds it."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: list[tuple[Verified, asyncio.Future[Stored]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def write(self, item: Verified) -> Stored:
        """Store ``item`` in the next write transaction; return once it committed."""
        future: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                await self._commit(batch)
            except Exception:
                # Something in the batch failed: write each alone, so one bad request fails
                # alone (and is not acknowledged) while the others are stored.
                for one in batch:
                    try:
                        await self._commit([one])
                    except Exception as exc:
                        _settle(one[1], exc)

    async def _commit(self, batch: list[tuple[Verified, asyncio.Future[Stored]]]) -> None:
        async with self._db.write() as conn:
            stored = await write_verified(conn, [item for item, _ in batch])
        for (_, future), result in zip(batch, stored, strict=True):
            _settle(future, result)


def _settle(future: asyncio.Future[Stored], outcome: Stored | Exception) -> None:
    if future.done():
        return  # the caller went away (client disconnect); what was written stays written
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


_writers: weakref.WeakKeyDictionary[Database, IngestWriter] = weakref.WeakKeyDictionary()


def ingest_writer(db: Database) -> IngestWriter:
    """The group-commit writer of ``db`` (one per database per process)."""
    writer = _writers.get(db)
    if writer is None:
        writer = _writers[db] = IngestWriter(db)
    return writer


async def write_verified(conn: AsyncConnection, items: list[Verified]) -> list[Stored]:
    """Store verified requests in ``conn``'s transaction: each becomes a message with its
    deliveries, unless its provider id was accepted within the window (then a duplicate)."""
    seen = await _recently_accepted(conn, items)
    endpoints: dict[str, list[Endpoint]] = {}
    messages: list[Message] = []
    rows: list[dict[str, Any]] = []
    stored: list[Stored] = []
    for item in items:
        record, key = item.record, (item.record.source_id, item.record.dedup_key)
        since = item.dedup_since
        if since is not None and key in seen and seen[key] >= since:
            duplicate = replace(
                record, outcome=records.DUPLICATE, code="duplicate", reason=DUPLICATE_REASON
            )
            stored.append((duplicate, 0))
            continue
        if since is not None:
            seen[key] = record.received_at
        message = message_for(item.source, record, record.received_at)
        if message.app_id not in endpoints:
            endpoints[message.app_id] = await endpoint_store.app_endpoints(conn, message.app_id)
        targets = forwarding_targets(endpoints[message.app_id], message.event_type, record)
        rows += delivery_rows(message, targets)
        messages.append(message)
        stored.append((replace(record, msg_id=message.id), len(targets)))
    await message_store.insert_messages(conn, messages)
    await queue.insert_deliveries(conn, rows)
    await records.insert_records(conn, [record for record, _ in stored])
    return stored


async def _recently_accepted(
    conn: AsyncConnection, items: list[Verified]
) -> dict[tuple[str, str | None], datetime]:
    """(source id, dedup key) -> when it was last accepted, for the keys ``items`` carry."""
    wanted: dict[str, tuple[set[str], datetime]] = {}
    for item in items:
        key, since = item.record.dedup_key, item.dedup_since
        if key is None or since is None:
            continue
        keys, earliest = wanted.get(item.record.source_id, (set(), since))
        keys.add(key)
        wanted[item.record.source_id] = (keys, min(earliest, since))
    found: dict[tuple[str, str | None], datetime] = {}
    for source_id, (keys, since) in wanted.items():
        accepted = await records.last_accepted(conn, source_id, sorted(keys), since)
        found.update({(source_id, key): at for key, at in accepted.items()})
    return found
