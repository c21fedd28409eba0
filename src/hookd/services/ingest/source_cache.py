"""The sources ``/in/{key}`` looks up, kept for a moment so a busy source costs no read each time.

Every request to an ingest URL needs its source (config, secrets, answer) before anything else.
Looking it up is a read transaction; the lookup (found or not) is kept for ``TTL``. When it runs
out, the requests arriving meanwhile share one read rather than each making its own. Changes made
through this process forget every kept lookup at once (``forget``); other processes of the same
database (``--role api`` scaled out) see a change within ``TTL``.
"""

from __future__ import annotations

import asyncio
import weakref
from datetime import datetime, timedelta

from hookd.core.domain import Source
from hookd.services.context import Context
from hookd.store.db import Database
from hookd.store.ingest import sources as store

TTL = timedelta(seconds=1)
MAX_ENTRIES = 1024

_Entries = dict[str, tuple[datetime, Source | None]]
_Loads = dict[str, asyncio.Task[Source | None]]
_kept: weakref.WeakKeyDictionary[Database, _Entries] = weakref.WeakKeyDictionary()
_loading: weakref.WeakKeyDictionary[Database, _Loads] = weakref.WeakKeyDictionary()


async def source_for_ingest(ctx: Context, key: str, now: datetime) -> Source | None:
    """The source whose ingest token is ``key`` (None: there is none), as of ``now``."""
    entries = _kept.setdefault(ctx.db, {})
    kept = entries.get(key)
    if kept is not None and timedelta(0) <= now - kept[0] < TTL:
        return kept[1]
    loads = _loading.setdefault(ctx.db, {})
    load = loads.get(key)
    if load is None:
        load = loads[key] = asyncio.create_task(_load(ctx.db, key, now, entries))
        load.add_done_callback(lambda _: loads.pop(key, None))
    # Shielded: one caller going away (a disconnect) must not cancel the others' read.
    return await asyncio.shield(load)


async def _load(db: Database, key: str, now: datetime, entries: _Entries) -> Source | None:
    async with db.read() as conn:
        source = await store.find_for_ingest(conn, key)
    if len(entries) >= MAX_ENTRIES:
        entries.clear()
    entries[key] = (now, source)  # a dict ``forget`` dropped meanwhile is dropped with it
    return source


def forget(db: Database) -> None:
    """Drop every kept lookup of ``db`` (after a source was created, changed or deleted)."""
    _kept.pop(db, None)
    _loading.pop(db, None)  # a read already running may predate the change: not shared further
