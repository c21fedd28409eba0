"""Following a source live (a bin or any other): its new requests, as they are stored.

A request stored by this process (a bin's capture, or any source's request through the ingest
group commit) wakes the source's followers at once (``announce``, after the commit). Requests
stored by other processes (several ``--role api`` processes on one PostgreSQL) are found by a
poll every ``POLL_SECONDS``: one index-only query for the ids of the source's recent requests
(index ``source_id, id``). The bins' event stream (``api.bins``) and the console's request
inspector both follow through here.

Ids are time-ordered but made before their transaction commits, so a request can become visible
after one with a later id. A follower therefore looks back ``LOOKBACK`` before the newest
request it has seen and sends every id in that window it has not sent yet, rather than only ids
after the last one.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta

from hookd import ids
from hookd.core.domain import InboundRecord
from hookd.services.context import Context
from hookd.services.ingest.sources import require_source
from hookd.store.db import Database
from hookd.store.ingest import inbound_requests as store
from hookd.store.ingest import sources as source_store

POLL_SECONDS = 1.0
LOOKBACK = timedelta(seconds=5)
BATCH = 50  # requests read (with their bodies) per read transaction

_Followers = dict[str, set[asyncio.Event]]
_followers: weakref.WeakKeyDictionary[Database, _Followers] = weakref.WeakKeyDictionary()


def announce(db: Database, source_id: str) -> None:
    """A request of ``source_id`` was committed: wake its followers in this process."""
    followers = _followers.get(db)
    if followers:
        for event in followers.get(source_id, ()):
            event.set()


@contextlib.contextmanager
def _listening(db: Database, source_id: str, event: asyncio.Event) -> Iterator[None]:
    followers = _followers.setdefault(db, {})
    followers.setdefault(source_id, set()).add(event)
    try:
        yield
    finally:
        waiting = followers.get(source_id)
        if waiting is not None:
            waiting.discard(event)
            if not waiting:
                followers.pop(source_id, None)


async def follow(
    ctx: Context, source_id: str, *, after: str | None = None, poll: float = POLL_SECONDS
) -> AsyncIterator[list[InboundRecord]]:
    """The source's requests stored from now on (after request id ``after``, when given: a
    resumed stream), oldest first, a list at a time. An empty list first, once the starting
    point is fixed, then one each idle ``poll`` (a moment to keep the connection alive). Ends
    when the source is deleted. The source must exist (NotFound)."""
    async with ctx.db.read() as conn:
        source = await require_source(conn, source_id)
    event = asyncio.Event()
    with _listening(ctx.db, source.id, event):
        mark = ctx.clock() if after is None else ids.id_time(after)
        seen: dict[str, datetime] = {}
        async with ctx.db.read() as conn:
            for request_id in await store.ids_since(conn, source.id, _floor(mark)):
                if after is None or request_id <= after:
                    seen[request_id] = ids.id_time(request_id)
        yield []  # the starting point is fixed: what is stored from here on comes next
        while True:
            event.clear()  # before reading: a capture committed from here on wakes us again
            window = _floor(mark)
            async with ctx.db.read() as conn:
                if await source_store.get_source(conn, source.id) is None:
                    return
                new = [i for i in await store.ids_since(conn, source.id, window) if i not in seen]
            for start in range(0, len(new), BATCH):
                async with ctx.db.read() as conn:
                    found = await store.records_by_id(conn, source.id, new[start : start + BATCH])
                for record in found:
                    seen[record.id] = record.received_at
                    mark = max(mark, record.received_at)
                yield found
            for request_id in new:  # deleted meanwhile (the cap, the TTL): not looked for again
                seen.setdefault(request_id, ids.id_time(request_id))
            floor = mark - LOOKBACK
            seen = {i: at for i, at in seen.items() if at >= floor}
            if not new:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(poll):
                        await event.wait()
                if not event.is_set():
                    yield []


def _floor(mark: datetime) -> str:
    return ids.floor_id(ids.REQUEST, mark - LOOKBACK)
