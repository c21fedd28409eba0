"""Rejected requests to ``/in/``: rate-limited and coalesced per source and address.

Anyone can POST to an ingest URL, so what is refused must not cost unbounded storage: only the
first ``HOOKD_REJECTED_BODY_BYTES`` of a rejected body are kept (``services.ingest.receive``),
repeated
rejections from one address are counted on one record, rejected requests are pruned after
``HOOKD_REJECTED_RETENTION_DAYS``, and past ``HOOKD_REJECTED_RATE_LIMIT`` a second per source
and address they are answered 429 and not stored at all.

The state is per process and in memory (a token bucket per source and address, the record the
last rejections were counted on): nothing here reads the database, and the accepted path never
comes here. Several processes each keep their own, so the bounds are per process.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from hookd.core.ratelimit import TokenBucket, next_token_at, refill, take
from hookd.store.db import Database

# At most this many sources x addresses are tracked; past it the oldest half is forgotten.
MAX_TRACKED = 10_000


@dataclass(slots=True)
class _Coalesced:
    record_id: str
    first_at: datetime


@dataclass(slots=True)
class RejectionGate:
    buckets: dict[tuple[str, str], TokenBucket] = field(default_factory=dict)
    recent: dict[tuple[str, str, str], _Coalesced] = field(default_factory=dict)

    def retry_after(self, source_id: str, address: str, rate: float, now: datetime) -> int | None:
        """None when one more rejection from ``address`` may be recorded now (spending a token);
        else the whole seconds until one may."""
        if rate <= 0:
            return None
        key = (source_id, address)
        bucket = refill(self.buckets.get(key), rate, now)
        if bucket.tokens >= 1.0 - 1e-9:
            _bounded(self.buckets)[key] = take(bucket, 1)
            return None
        self.buckets[key] = bucket
        wait = (next_token_at(bucket, rate) - now).total_seconds()
        return max(1, math.ceil(wait))

    def coalesce_into(
        self,
        source_id: str,
        address: str,
        code: str,
        record_id: str,
        window: timedelta,
        now: datetime,
    ) -> str | None:
        """The record an earlier rejection from ``address`` with ``code`` was stored as, within
        ``window`` of it: count this one there. None: store it as ``record_id``, which later
        rejections within the window are then counted on."""
        if window <= timedelta(0):
            return None
        key = (source_id, address, code)
        kept = self.recent.get(key)
        # ``now`` is read when a request starts, before its body: concurrent requests finish
        # out of order, so an earlier ``now`` than the record's counts on it too.
        if kept is not None and now - kept.first_at < window:
            return kept.record_id
        _bounded(self.recent)[key] = _Coalesced(record_id, now)
        return None


K = TypeVar("K")
V = TypeVar("V")


def _bounded(entries: dict[K, V]) -> dict[K, V]:
    """``entries``, with its oldest half dropped when it is full (insertion order)."""
    if len(entries) >= MAX_TRACKED:
        for key in list(entries)[: MAX_TRACKED // 2]:
            del entries[key]
    return entries


_gates: weakref.WeakKeyDictionary[Database, RejectionGate] = weakref.WeakKeyDictionary()


def gate_for(db: Database) -> RejectionGate:
    gate = _gates.get(db)
    if gate is None:
        gate = _gates[db] = RejectionGate()
    return gate
