"""Forgetting what bins captured once it is older than their TTL (``ttlSeconds``).

Every capture already forgets its bin's expired requests (``capture``); this removes them from
bins nobody sends to any more, in the periodic prune and ``hookd prune``, a bounded batch per
transaction. Listings hide expired requests in between.
"""

from __future__ import annotations

from datetime import datetime

from hookd.services.bins.bins import kept_since
from hookd.store.db import Database
from hookd.store.ingest import bins as store


async def prune_expired(db: Database, now: datetime, batch_size: int) -> int:
    """Delete every bin's requests older than its TTL; return how many went."""
    async with db.read() as conn:
        bins = await store.all_bins(conn)
    deleted = 0
    for source in bins:
        since = kept_since(source, now)
        while True:
            async with db.write() as conn:
                done = await store.delete_expired(conn, source.id, since, batch_size)
            deleted += done
            if done < batch_size:
                break
    return deleted


async def count_expired(db: Database, now: datetime, *, newer_than: str | None = None) -> int:
    """How many ``prune_expired`` would delete now (only ids from ``newer_than`` on, when
    given: the older ones another rule counts)."""
    async with db.read() as conn:
        total = 0
        for source in await store.all_bins(conn):
            since = kept_since(source, now)
            total += await store.count_expired(conn, source.id, since, newer_than)
    return total
