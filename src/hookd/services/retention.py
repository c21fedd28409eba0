"""Retention: expunge expired payloads, delete records older than a cut-off (``hookd prune``).

The rolled-up counters and resolved alert issues have a retention of their own
(``HOOKD_STATS_RETENTION_DAYS``): statistics may outlive the messages they count.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from hookd import ids
from hookd.core.rollups import minute_of
from hookd.services.bins import expiry as bin_expiry
from hookd.store import idempotency, rollups
from hookd.store import retention as store
from hookd.store.alerts import records as alert_store
from hookd.store.codec import to_ms
from hookd.store.db import Database

DEFAULT_BATCH_SIZE = 1000

Batch = Callable[[AsyncConnection], Awaitable[int]]
PairBatch = Callable[[AsyncConnection], Awaitable[tuple[int, int]]]


@dataclass(frozen=True, slots=True)
class PruneCounts:
    """What a prune removed (or, for a dry run, would remove)."""

    payloads_expunged: int = 0
    messages_deleted: int = 0
    attempts_deleted: int = 0
    inbound_requests_deleted: int = 0
    idempotency_keys_deleted: int = 0
    counters_deleted: int = 0  # rolled-up counter rows (one per endpoint or source and minute)
    alert_issues_deleted: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @property
    def total(self) -> int:
        return (
            self.payloads_expunged
            + self.messages_deleted
            + self.attempts_deleted
            + self.inbound_requests_deleted
            + self.idempotency_keys_deleted
            + self.counters_deleted
            + self.alert_issues_deleted
        )


async def prune(
    db: Database,
    now: datetime,
    *,
    older_than: timedelta | None,
    rejected_older_than: timedelta | None = None,
    stats_older_than: timedelta | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> PruneCounts:
    """Expunge payloads past their retention period; with ``older_than``, delete older records.

    Messages (with their deliveries and attempts) and inbound requests older than ``older_than``
    are deleted, except messages with a delivery still to make; a request bin's requests go
    once older than its TTL (``ttlSeconds``); rejected inbound requests go
    once older than ``rejected_older_than`` (``HOOKD_REJECTED_RETENTION_DAYS``), counted with
    the inbound requests; rolled-up counters and resolved alert issues once older than
    ``stats_older_than`` (``HOOKD_STATS_RETENTION_DAYS``). Each batch of at most
    ``batch_size`` rows is its own short transaction.
    """
    now_ms = to_ms(now)
    payloads = await _in_batches(db, lambda c: store.expunge_payloads(c, now_ms, batch_size))
    async with db.write() as conn:
        keys = await idempotency.purge_expired_keys(conn, now_ms)
    rejected = 0
    if rejected_older_than is not None:
        cut = ids.floor_id(ids.REQUEST, now - rejected_older_than)
        rejected = await _in_batches(
            db, lambda c: store.delete_rejected_requests(c, cut, batch_size)
        )
    rejected += await bin_expiry.prune_expired(db, now, batch_size)  # past each bin's TTL
    counters = issues = 0
    if stats_older_than is not None:
        stats_cut = _stats_cut_off(now - stats_older_than)
        counters = await _in_batches(db, lambda c: rollups.delete_before(c, stats_cut, batch_size))
        issues = await _in_batches(
            db, lambda c: alert_store.delete_resolved_before(c, stats_cut, batch_size)
        )
    if older_than is None:
        return PruneCounts(
            payloads_expunged=payloads,
            inbound_requests_deleted=rejected,
            idempotency_keys_deleted=keys,
            counters_deleted=counters,
            alert_issues_deleted=issues,
        )
    msg_cut, req_cut = _cut_offs(now - older_than)
    messages, attempts = await _pairs_in_batches(
        db, lambda c: store.delete_messages(c, msg_cut, batch_size)
    )
    requests = await _in_batches(
        db, lambda c: store.delete_inbound_requests(c, req_cut, batch_size)
    )
    return PruneCounts(payloads, messages, attempts, rejected + requests, keys, counters, issues)


async def count(
    db: Database,
    now: datetime,
    *,
    older_than: timedelta | None,
    rejected_older_than: timedelta | None = None,
    stats_older_than: timedelta | None = None,
) -> PruneCounts:
    """What ``prune`` would remove now (``hookd prune --dry-run``)."""
    now_ms = to_ms(now)
    async with db.read() as conn:
        payloads = await store.count_expired_payloads(conn, now_ms)
        keys = await idempotency.count_expired_keys(conn, now_ms)
        counters = issues = 0
        if stats_older_than is not None:
            stats_cut = _stats_cut_off(now - stats_older_than)
            counters = await rollups.count_before(conn, stats_cut)
            issues = await alert_store.count_resolved_before(conn, stats_cut)
        rejected_cut = None
        if rejected_older_than is not None:
            rejected_cut = ids.floor_id(ids.REQUEST, now - rejected_older_than)
        if older_than is None:
            rejected = 0
            if rejected_cut is not None:
                rejected = await store.count_old_rejected_requests(conn, rejected_cut)
            rejected += await bin_expiry.count_expired(db, now)
            return PruneCounts(
                payloads_expunged=payloads,
                inbound_requests_deleted=rejected,
                idempotency_keys_deleted=keys,
                counters_deleted=counters,
                alert_issues_deleted=issues,
            )
        msg_cut, req_cut = _cut_offs(now - older_than)
        messages, attempts = await store.count_old_messages(conn, msg_cut)
        requests = await store.count_old_inbound_requests(conn, req_cut)
        if rejected_cut is not None and rejected_cut > req_cut:
            # Rejected requests between the two cut-offs go too (older ones are counted above).
            requests += await store.count_old_rejected_requests(conn, rejected_cut)
            requests -= await store.count_old_rejected_requests(conn, req_cut)
    # Bins' expired requests newer than the cut-off (older ones are counted above).
    requests += await bin_expiry.count_expired(db, now, newer_than=req_cut)
    return PruneCounts(payloads, messages, attempts, requests, keys, counters, issues)


def stats_retention(days: int) -> timedelta | None:
    """``HOOKD_STATS_RETENTION_DAYS`` as an age (0: keep counters and resolved issues)."""
    return timedelta(days=days) if days else None


def _stats_cut_off(cut_off: datetime) -> int:
    """Counter rows of minutes before this (ms) go: the minute holding the cut-off stays."""
    return minute_of(to_ms(cut_off))


def rejected_retention(days: int) -> timedelta | None:
    """``HOOKD_REJECTED_RETENTION_DAYS`` as an age (0: keep rejected requests)."""
    return timedelta(days=days) if days else None


def _cut_offs(cut_off: datetime) -> tuple[str, str]:
    """The smallest message and inbound request ids created at ``cut_off``."""
    return ids.floor_id(ids.MESSAGE, cut_off), ids.floor_id(ids.REQUEST, cut_off)


async def _in_batches(db: Database, batch: Batch) -> int:
    """Run ``batch`` in its own transaction until it finds nothing more to do."""

    async def paired(conn: AsyncConnection) -> tuple[int, int]:
        return await batch(conn), 0

    done, _ = await _pairs_in_batches(db, paired)
    return done


async def _pairs_in_batches(db: Database, batch: PairBatch) -> tuple[int, int]:
    """Like ``_in_batches`` for a batch that counts two things (the first one decides)."""
    first = second = 0
    while True:
        async with db.write() as conn:
            done, also = await batch(conn)
        first, second = first + done, second + also
        if done == 0:
            return first, second
