"""The worker's side of the Redis queue index: read due endpoints, claim them, index them again.

A reader task waits on the ready stream (a blocking ``XREADGROUP``, so new work starts at once)
whenever the worker has free slots, and hands endpoint ids to the worker's loop. A claim round
runs the database's claim limited to those endpoints; after its commit their new ``ready_at``
(the database's truth) goes back to Redis: due now -> the stream, later -> the sorted set,
nothing -> out of the index until ``mark_ready`` signals it again. Then the entries are
acknowledged. A worker out of failing budget keeps failing endpoints' entries for its next round.

Never lose or stall work:
- Redis lost its data (restart without persistence, flush): the epoch key is gone, or reads fail
  with NOGROUP; the group is made again and the index reseeded from ``endpoint_state``.
- Redis unreachable: :attr:`RedisDispatch.active` turns false and the worker claims from the
  database as without Redis (polling); the reader reconnects with backoff, then reseeds.
- A signal lost between a commit and Redis (a crash): the safety poll re-signals endpoints ready
  in the database for longer than ``OVERDUE_MS``.
- A worker that died holding entries: others take them over (``XAUTOCLAIM``) after a lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import time
from collections.abc import Callable
from typing import Any

import structlog
from redis.exceptions import RedisError, ResponseError
from sqlalchemy.engine import Connection

from hookd.engine.queue.index import RETRY_MAX_SECONDS, RETRY_MIN_SECONDS, RedisIndex
from hookd.engine.queue.keys import FIELD, GROUP
from hookd.engine.queue.port import ClaimRound, RoundResult
from hookd.services.context import Context
from hookd.store import ready_index
from hookd.store.codec import to_ms
from hookd.store.ready_index import ReadyState
from hookd.store.scheduling import MAX_ENDPOINTS_PER_ROUND, Limits

log = structlog.get_logger("hookd.queue")

# The longest blocking read: the reader also wakes for due retries (the sorted set's earliest)
# and notices a stop or an unwanted read this often.
READ_BLOCK_MS = 1000
SAFETY_SECONDS = 2.0
# Ready this long in the database but not claimed: maybe a lost signal, so signal again.
OVERDUE_MS = 3000
OVERDUE_BATCH = 500
# An endpoint marked as waiting in the stream longer than this is pushed again by the safety
# poll (its entry may have been lost with a partial data loss).
REQUEUE_AFTER_MS = 30_000
# Consumers (dead worker processes) idle this long with nothing pending are removed.
CONSUMER_IDLE_MS = 600_000
CONSUMER_PRUNE_SECONDS = 60.0
RESEED_PAGE = 1000

Entries = dict[str, list[str]]  # endpoint id -> stream entry ids read for it


def _entries(reply: Any) -> Entries:
    """Stream entries by endpoint id, from ``XREADGROUP``'s reply ([(stream, [(id, fields)])]);
    entries deleted meanwhile (no fields) count for no endpoint."""
    read: Entries = {}
    for _, messages in reply or []:
        for entry_id, fields in messages:
            read.setdefault(str((fields or {}).get(FIELD, "")), []).append(str(entry_id))
    return read


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class RedisDispatch:
    """Feeds one worker endpoint ids from Redis; ``active`` is false while Redis is unusable."""

    def __init__(self, ctx: Context, index: RedisIndex, wake: Callable[[], None]) -> None:
        self.ctx = ctx
        self.index = index
        self.redis = index.redis
        self.keys = index.keys
        self.wake = wake
        self.consumer = consumer_name()
        self.active = False
        self._ready: Entries = {}  # read, not yet claimed for
        self._held: Entries = {}  # failing endpoints kept until this worker has failing budget
        self._want = 0  # endpoint ids the worker could use now (0: the reader rests)
        self._wanted = asyncio.Event()
        self._lost = asyncio.Event()  # the reader must reconnect and reseed
        self._tasks: list[asyncio.Task[None]] = []
        self._claim_idle_ms = int(ctx.settings.lease_seconds * 1000)
        self._last_autoclaim = 0.0
        self._last_prune = 0.0

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._read_loop(), name="hookd-queue-reader"),
            asyncio.create_task(self._safety_loop(), name="hookd-queue-safety"),
        ]

    async def stop(self) -> None:
        """Hand what this worker read back to the stream, then leave the group."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if not self.active:
            return
        try:
            await asyncio.wait_for(self._hand_back(), 2.0)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("could not hand queue entries back; others take them over", error=str(exc))

    async def _hand_back(self) -> None:
        held: Entries = {}
        for entries in (self._ready, self._held):
            for endpoint_id, ids in entries.items():
                held.setdefault(endpoint_id, []).extend(ids)
        # Also entries Redis gave this consumer that never reached it (a read cut by the stop).
        reply = await self.redis.xreadgroup(
            GROUP, self.consumer, {self.keys.ready: "0"}, count=10_000
        )
        self._put_back(held, _entries(reply))
        now_ms = to_ms(self.ctx.clock())
        await self.index.update(
            {endpoint_id: now_ms for endpoint_id in held if endpoint_id},
            acks=[entry for ids in held.values() for entry in ids],
        )
        await self.redis.xgroup_delconsumer(self.keys.ready, GROUP, self.consumer)

    # --- the worker's claim round -------------------------------------------------------------

    async def claim(self, claim_round: ClaimRound, limits: Limits) -> RoundResult | None:
        """The worker's claim round for the endpoints read from Redis (none read yet: ask the
        reader for some and return None)."""
        taken = self._take(use_held=limits.failing_budget > 0)
        if not taken:
            self._ask(limits.budget)
            return None
        endpoint_ids = list(taken)

        def round_and_states(conn: Connection) -> tuple[RoundResult, dict[str, ReadyState]]:
            return claim_round(conn, endpoint_ids), ready_index.ready_states(conn, endpoint_ids)

        try:
            result, states = await self.ctx.db.run_write(round_and_states, acknowledges=False)
        except BaseException:
            self._put_back(self._ready, taken)
            raise
        claims = result.claims
        now_ms = to_ms(self.ctx.clock())
        served = {c.endpoint_id for c in claims}
        again: dict[str, int] = {}
        acks: list[str] = []
        for endpoint_id, entry_ids in taken.items():
            state = states.get(endpoint_id)
            ready_at = None if state is None else state.ready_at
            if (
                state is not None
                and state.failing
                and endpoint_id not in served
                and ready_at is not None
                and ready_at <= now_ms
            ):
                # Left out by the failing endpoints' share of the budget: kept for this worker's
                # next round (pushing it back would only have every worker read it in turn).
                self._put_back(self._held, {endpoint_id: entry_ids})
                continue
            if ready_at is not None:
                again[endpoint_id] = ready_at
            acks.extend(entry_ids)
        self.index.ack(acks, again)
        if not self._ready:
            self._ask(limits.budget - len(claims))
        return result

    def _take(self, *, use_held: bool) -> Entries:
        taken: Entries = {}
        for source in (self._held, self._ready) if use_held else (self._ready,):
            while source and len(taken) < MAX_ENDPOINTS_PER_ROUND:
                endpoint_id = next(iter(source))
                taken.setdefault(endpoint_id, []).extend(source.pop(endpoint_id))
        return taken

    @staticmethod
    def _put_back(into: Entries, entries: Entries) -> None:
        for endpoint_id, ids in entries.items():
            into.setdefault(endpoint_id, []).extend(ids)

    def _ask(self, count: int) -> None:
        if count > 0 and self.active:
            self._want = min(count, MAX_ENDPOINTS_PER_ROUND)
            self._wanted.set()

    def _connection_lost(self, exc: BaseException, *, data_lost: bool = False) -> None:
        """Claim from the database until the reader has reconnected (and reseeded)."""
        if self.active:
            if data_lost:
                log.warning("the queue index lost its data; reseeding it", error=str(exc))
            else:
                log.warning("queue index unreachable; polling the database", error=str(exc))
        self.active = False
        self.index.reachable = False
        # Entries of a lost stream mean nothing; a reachable one hands them to others later.
        self._ready.clear()
        self._held.clear()
        self._lost.set()
        self._wanted.set()
        self.wake()

    # --- the reader ---------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        while True:
            try:
                if not self.active:
                    await self._reconnect()
                await self._read_once()
            except asyncio.CancelledError:
                raise
            except ResponseError as exc:  # NOGROUP, or the stream deleted under a blocked read
                self._connection_lost(exc, data_lost=True)
            except (RedisError, OSError) as exc:
                self._connection_lost(exc)
            except Exception:
                log.exception("queue reader error; retrying")
                self._connection_lost(RuntimeError("reader error"))
                await asyncio.sleep(RETRY_MAX_SECONDS)

    async def _reconnect(self) -> None:
        backoff = RETRY_MIN_SECONDS
        while True:
            self._lost.clear()
            try:
                await self.index.ensure_group()
                await self._reseed()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis or the database not back yet
                self.index.note_failure("cannot reach the queue index; polling the database", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, RETRY_MAX_SECONDS)
                continue
            self.active = True
            self.index.note_success()
            log.info("queue index ready", consumer=self.consumer)
            self.wake()
            return

    async def _reseed(self) -> None:
        """Rebuild the index from ``endpoint_state.ready_at``; then mark it seeded (the epoch)."""
        await self.redis.delete(self.keys.queued)  # no stale "already waiting" mark survives
        after, count = "", 0
        while True:
            async with self.ctx.db.read() as conn:
                page = await ready_index.ready_page(conn, after, RESEED_PAGE)
            if not page:
                break
            await self.index.update(page)
            after, count = max(page), count + len(page)
        await self.redis.set(self.keys.epoch, str(to_ms(self.ctx.clock())))
        log.info("queue index seeded from the database", endpoints=count)

    async def _read_once(self) -> None:
        while self._want <= 0 and not self._lost.is_set():
            self._wanted.clear()
            await self._wanted.wait()
        if self._lost.is_set():
            return
        count = self._want
        now_ms = to_ms(self.ctx.clock())
        earliest = await self.index.update({}, promote=count)
        block = READ_BLOCK_MS if earliest is None else min(READ_BLOCK_MS, earliest - now_ms)
        read: Entries = {}
        if time.monotonic() - self._last_autoclaim > self._claim_idle_ms / 2000:
            self._last_autoclaim = time.monotonic()
            read = await self._take_over(count)
        if not read:
            read = await self._read(count, max(1, block))
        if not read:
            return
        endpoints = [endpoint_id for endpoint_id in read if endpoint_id]
        if endpoints:
            await self.redis.zrem(self.keys.queued, *endpoints)
        wakers = read.pop("", [])
        if wakers:  # empty entries only wake a reader: done with at once
            await self.index.update({}, acks=wakers)
        if read:
            self._put_back(self._ready, read)
            self._want = 0
            self.wake()

    async def _read(self, count: int, block_ms: int) -> Entries:
        reply = await self.redis.xreadgroup(
            GROUP, self.consumer, {self.keys.ready: ">"}, count=count, block=block_ms
        )
        return _entries(reply)

    async def _take_over(self, count: int) -> Entries:
        """Entries another worker read and never acknowledged within a lease (it died)."""
        reply = await self.redis.xautoclaim(
            self.keys.ready, GROUP, self.consumer, self._claim_idle_ms, "0-0", count=count
        )
        mine = {
            entry
            for entries in (self._ready, self._held)
            for ids in entries.values()
            for entry in ids
        }
        read: Entries = {}
        for entry_id, fields in reply[1]:
            if entry_id not in mine and fields:
                read.setdefault(fields.get(FIELD, ""), []).append(entry_id)
        if read:
            log.info("took over queue entries of a stopped worker", count=len(read))
        return read

    # --- the safety poll ----------------------------------------------------------------------

    async def _safety_loop(self) -> None:
        while True:
            await asyncio.sleep(SAFETY_SECONDS)
            if not self.active:
                continue
            try:
                await self._check()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self._connection_lost(exc)
            except Exception:  # the database is down: the worker's own loop reports it
                log.debug("queue safety poll failed", exc_info=True)

    async def _check(self) -> None:
        if not await self.redis.exists(self.keys.epoch):
            self._connection_lost(RuntimeError("epoch missing"), data_lost=True)
            return
        now_ms = to_ms(self.ctx.clock())
        async with self.ctx.db.read() as conn:
            late = await ready_index.overdue(conn, now_ms - OVERDUE_MS, OVERDUE_BATCH)
        if late:
            await self.index.update(late, requeue_before_ms=now_ms - REQUEUE_AFTER_MS)
        if time.monotonic() - self._last_prune > CONSUMER_PRUNE_SECONDS:
            self._last_prune = time.monotonic()
            await self._prune_consumers()

    async def _prune_consumers(self) -> None:
        consumers: Any = await self.redis.xinfo_consumers(self.keys.ready, GROUP)
        for consumer in consumers:
            name = str(consumer.get("name"))
            if (
                name != self.consumer
                and consumer.get("pending") == 0
                and int(consumer.get("idle", 0)) > CONSUMER_IDLE_MS
            ):
                await self.redis.xgroup_delconsumer(self.keys.ready, GROUP, name)
