"""The Redis side of the queue index: signals after commits, and the index's atomic updates.

Every process with ``HOOKD_QUEUE_URL`` (API and worker) installs :meth:`RedisIndex.signal` as
the database's post-commit hook, so every committed ``mark_ready`` reaches Redis. Signals are
best-effort: they are sent from a background task, merged while Redis is slow or down, retried
with backoff, and never fail or delay the transaction that made them. What they might miss is
repaired from the database (``dispatch.py``: the reseed and the safety poll).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import structlog
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError, ResponseError

from hookd.engine.queue.keys import GROUP, QueueKeys
from hookd.engine.queue.scripts import INDEX
from hookd.store.codec import to_ms

log = structlog.get_logger("hookd.queue")

CONNECT_TIMEOUT_SECONDS = 2.0
# Longer than the longest blocking read (dispatch.READ_BLOCK_MS), so only a dead link times out.
SOCKET_TIMEOUT_SECONDS = 10.0
RETRY_MIN_SECONDS, RETRY_MAX_SECONDS = 0.1, 5.0
# Pairs and acknowledgements per script call (Lua's unpack has a limit; calls stay short).
CHUNK = 500
# While Redis is down, unsent signals are merged per endpoint up to this many endpoints; beyond
# that they are dropped, as the reseed after the reconnect rebuilds the index from the database.
MAX_UNSENT = 100_000


def connect(url: str) -> Redis:
    # One quick retry (a pooled connection that died with a Redis restart), then fail fast: the
    # callers back off themselves, and a worker must not wait seconds on a Redis that is down.
    return Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=1),
        decode_responses=True,
    )


def merge_earliest(into: dict[str, int], due: Mapping[str, int]) -> None:
    for endpoint_id, at in due.items():
        if endpoint_id not in into or at < into[endpoint_id]:
            into[endpoint_id] = at


class RedisIndex:
    """The queue index in one Redis: endpoint ids due now (a stream), due later (a sorted set)."""

    def __init__(self, url: str, prefix: str, clock: Callable[[], datetime]) -> None:
        self.keys = QueueKeys(prefix)
        self.redis = connect(url)
        self.clock = clock
        self._script = self.redis.register_script(INDEX)
        self._unsent: dict[str, int] = {}
        self._unacked: list[str] = []
        self._has_unsent = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None
        self.reachable = True  # as far as the last command knew (for logging state changes)

    def signal(self, due: dict[str, int]) -> None:
        """The post-commit hook: these endpoints have work due at these ms (cheap, never fails)."""
        if len(self._unsent) < MAX_UNSENT:
            merge_earliest(self._unsent, due)
        self._has_unsent.set()

    def ack(self, entry_ids: list[str], due: dict[str, int]) -> None:
        """A claim round committed: acknowledge its entries and index its endpoints again, in
        the background (the worker starts its deliveries meanwhile)."""
        if len(self._unacked) < MAX_UNSENT:
            self._unacked.extend(entry_ids)
        self.signal(due)

    async def start(self) -> None:
        self._sender = asyncio.create_task(self._send_loop(), name="hookd-queue-signals")

    async def close(self, grace: float = 1.0) -> None:
        """Send what is unsent (for up to ``grace`` seconds), then disconnect."""
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
            self._sender = None
        if self._unsent or self._unacked:
            with contextlib.suppress(RedisError, OSError, TimeoutError):
                await asyncio.wait_for(self.update(self._unsent, acks=self._unacked), grace)
        await self.redis.aclose()

    async def _send_loop(self) -> None:
        backoff = RETRY_MIN_SECONDS
        while True:
            await self._has_unsent.wait()
            self._has_unsent.clear()
            batch, self._unsent = self._unsent, {}
            acks, self._unacked = self._unacked, []
            if not batch and not acks:
                continue
            try:
                await self.update(batch, acks=acks)
            except (RedisError, OSError) as exc:
                if len(self._unsent) < MAX_UNSENT:
                    merge_earliest(self._unsent, batch)
                if len(self._unacked) < MAX_UNSENT:
                    self._unacked.extend(acks)
                self._has_unsent.set()
                self.note_failure("cannot signal the queue index; retrying", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, RETRY_MAX_SECONDS)
                continue
            backoff = RETRY_MIN_SECONDS
            self.note_success()

    def note_failure(self, message: str, exc: BaseException) -> None:
        if self.reachable:
            log.warning(message, error=str(exc) or type(exc).__name__)
        self.reachable = False

    def note_success(self) -> None:
        if not self.reachable:
            log.info("queue index reachable again")
        self.reachable = True

    async def update(
        self,
        due: Mapping[str, int],
        *,
        acks: Sequence[str] = (),
        promote: int = 0,
        requeue_before_ms: int = 0,
    ) -> int | None:
        """One or more atomic index updates (see ``scripts.py``); the earliest time in ``due``."""
        now_ms = to_ms(self.clock())
        keys = [self.keys.due, self.keys.ready, self.keys.queued]
        pairs = sorted(due.items())
        earliest: object = None
        first = True
        while first or pairs or acks:
            first = False
            chunk_acks, acks = list(acks[:CHUNK]), acks[CHUNK:]
            chunk, pairs = pairs[:CHUNK], pairs[CHUNK:]
            args: list[str | int] = [
                now_ms,
                requeue_before_ms,
                promote,
                GROUP,
                len(chunk_acks),
                *chunk_acks,
            ]
            for endpoint_id, at in chunk:
                args += [endpoint_id, at]
            earliest = await self._script(keys=keys, args=args)
            promote = 0
        return None if earliest is None else int(float(str(earliest)))

    async def ensure_group(self) -> None:
        """The consumer group, made (with its stream) if Redis lost it; from the stream's start,
        so entries signalled before it existed are read too."""
        try:
            await self.redis.xgroup_create(self.keys.ready, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
