"""The running system of one process, built in one place: :class:`Runtime`.

``Runtime(settings, db)`` makes the parts that live as long as the process (the transformation
sandbox, the worker's in-flight ledger, the wake-up, the telemetry) and the immutable
:class:`~hookd.services.context.Context` that hands them to the services. ``running()`` starts
what runs (sender, worker, pruner, alert evaluator, delivery processes, Redis queue index,
PostgreSQL wake-ups) and stops it all on exit, the sandbox last. The API (``api.app``) and the
worker-only process (``run_worker_only``) both run a runtime; nothing else starts or closes
these parts.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING

import structlog

from hookd import gc_tuning
from hookd.config import Settings
from hookd.engine.alerts.evaluator import AlertEvaluator, Notify
from hookd.engine.alerts.poster import GuardedPoster
from hookd.engine.delivery_processes import children_for, watch_parent
from hookd.engine.destinations import BrokerDestinations
from hookd.engine.handoff import HandOff
from hookd.engine.http.sender import HttpSender
from hookd.engine.pruner import Pruner
from hookd.engine.relay import RelayDestination, RelayHub
from hookd.engine.signed_headers import USER_AGENT
from hookd.engine.transformations.sandbox import TransformSandbox
from hookd.engine.wakeup import PgWakeups
from hookd.engine.worker import DeliveryWorker
from hookd.services.context import Context, utc_now
from hookd.store.db import Database
from hookd.telemetry import NO_TELEMETRY, Telemetry
from hookd.tracing import Tracing

if TYPE_CHECKING:
    from hookd.engine.queue.dispatch import RedisDispatch
    from hookd.engine.queue.index import RedisIndex

log = structlog.get_logger("hookd")


def _nothing() -> None:
    return None


def _all_of(*targets: Callable[[], None] | None) -> Callable[[], None]:
    """One wake-up calling every given target (the only one, as is, when there is one)."""
    present = [target for target in targets if target is not None]
    if not present:
        return _nothing
    if len(present) == 1:
        return present[0]

    def wake_all() -> None:
        for target in present:
            target()

    return wake_all


class Runtime:
    """This process's running system: what the API and the worker share.

    - ``wake``: the services' wake-up after they queue work (``ctx.wake_worker``). It goes
      nowhere until ``running()`` has started everything, then to this process's worker, its
      delivery processes and, on PostgreSQL, every other process's worker (NOTIFY); with the
      Redis queue index, the index wakes the workers instead.
    - ``handoff``: the worker's in-flight ledger; the services see it (``ctx.handoff``) when
      creates may hand deliveries to the worker directly (SQLite, role ``all``). It takes
      hand-offs only while the worker runs.
    - the post-commit hook: ``db.on_ready`` is the Redis queue index's ``signal`` while it runs.
    - ``sandbox``: the transformation sandbox, closed once, when the runtime stops.
    - ``telemetry``: what hookd reports (``hookd.telemetry``), a no-op unless one is given.
    - ``tracing``: where spans are opened (``hookd.tracing``); None (tracing off) unless given.
    - ``alert_poster``: posts alert notices to Slack, Teams and Discord (``ctx.alert_poster``);
      its connections open on the first notice and close when ``running()`` ends.
    - ``relay_hub``: the ``hookd listen`` sockets connected to this process's API, by relay
      (``engine.relay``); the worker's ``relay://`` endpoints send through it.
    - ``alert_notify``: where the alert evaluator sends its notices (by default the channels,
      ``services.alerts.notify``); the evaluator runs in every role, one process at a time.
    """

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        telemetry: Telemetry = NO_TELEMETRY,
        tracing: Tracing | None = None,
        clock: Callable[[], datetime] = utc_now,
        alert_notify: Notify | None = None,
    ) -> None:
        self.settings = settings
        self.alert_notify = alert_notify
        self.db = db
        self.telemetry = telemetry
        self.tracing = tracing
        self.sandbox = TransformSandbox(settings.transform_workers)
        self._children = children_for(settings)  # delivery processes started beside the worker
        self.handoff = HandOff(
            concurrency=settings.concurrency,
            per_endpoint=settings.endpoint_concurrency,
            lease_seconds=settings.lease_seconds,
            # The delivery processes' deliveries count against the endpoints' caps too.
            shared=self._children is not None,
        )
        self._wake: Callable[[], None] = _nothing
        self.alert_poster = GuardedPoster(settings)
        # The hookd listen sockets this process holds (the API adds them, the worker sends).
        self.relay_hub = RelayHub()
        # The same process owns the SQLite file and takes the creates: they hand deliveries to
        # the worker directly.
        takes_handoffs = db.is_sqlite and settings.role == "all"
        self.ctx = Context(
            db=db,
            settings=settings,
            clock=clock,
            wake_worker=self.wake,
            handoff=self.handoff if takes_handoffs else None,
            sandbox=self.sandbox,
            telemetry=telemetry,
            tracing=tracing,
            alert_poster=self.alert_poster,
        )

    def wake(self) -> None:
        """New work was queued: wake the workers (see the class)."""
        self._wake()

    @asynccontextmanager
    async def running(self, *, deliver: bool) -> AsyncIterator[DeliveryWorker | None]:
        """Run this process's part while the block runs: with ``deliver``, the delivery engine
        (yielded); without, only the wake-ups of other processes' workers. On exit finish or
        release what is in flight, then close the sandbox."""
        try:
            if deliver:
                async with self._delivery_engine() as worker, self._alerts():
                    yield worker
            else:
                async with self._queue_index(), self._wakeups(None) as pg, self._alerts():
                    self._wake = _all_of(pg.notify if pg is not None else None)
                    yield None
        finally:
            self._wake = _nothing
            await self.alert_poster.close()
            await self.sandbox.close()

    @asynccontextmanager
    async def _alerts(self) -> AsyncIterator[AlertEvaluator | None]:
        """The alert evaluator, unless ``HOOKD_ALERT_INTERVAL`` is 0."""
        if self.settings.alert_interval <= 0:
            yield None
            return
        evaluator = AlertEvaluator(self.ctx, notify=self.alert_notify)
        evaluator.start()
        try:
            yield evaluator
        finally:
            await evaluator.stop()

    @asynccontextmanager
    async def _queue_index(self) -> AsyncIterator[RedisIndex | None]:
        """With ``HOOKD_QUEUE_URL``: every committed ``mark_ready`` is signalled to Redis."""
        settings = self.settings
        if not settings.queue_url:
            yield None
            return
        from hookd.engine.queue.index import RedisIndex  # redis is imported only when configured

        index = RedisIndex(settings.queue_url, settings.queue_prefix, self.ctx.clock)
        self.db.on_ready = index.signal  # the post-commit hook
        await index.start()
        try:
            yield index
        finally:
            self.db.on_ready = None
            await index.close()

    @asynccontextmanager
    async def _wakeups(self, local: Callable[[], None] | None) -> AsyncIterator[PgWakeups | None]:
        """On PostgreSQL, NOTIFY every worker of queued work, and with ``local`` (this
        process's worker) listen for the others' (not needed with the Redis queue index: it
        wakes the workers itself)."""
        if self.db.is_sqlite or self.settings.queue_url:
            yield None
            return
        pg = PgWakeups(self.db.url)
        await pg.start(send=True, on_wake=local)
        try:
            yield pg
        finally:
            await pg.close()

    @asynccontextmanager
    async def _delivery_engine(self) -> AsyncIterator[DeliveryWorker]:
        """Run deliveries while the block runs; on exit finish or release what is in flight."""
        ctx, settings = self.ctx, self.settings
        sender = HttpSender(
            settings.networks,
            user_agent=USER_AGENT,
            limit=settings.concurrency,
            own=settings.own_address,
        )
        await sender.start()
        brokers = BrokerDestinations(settings.networks, RelayDestination(self.relay_hub, ctx))
        await brokers.start()
        worker = DeliveryWorker(ctx, sender, brokers, handoff=self.handoff)
        pruner = Pruner(ctx)
        children = self._children
        async with AsyncExitStack() as stack:
            index = await stack.enter_async_context(self._queue_index())
            dispatch: RedisDispatch | None = None
            try:
                if index is not None:
                    from hookd.engine.queue.dispatch import RedisDispatch

                    dispatch = RedisDispatch(ctx, index, worker.wake)
                    worker.dispatch = dispatch
                # The serving process owns an embedded SQLite file (its delivery processes, if
                # any, start after this and stop with it), so anything left claimed is ours.
                await worker.start(reclaim_all=self.db.is_sqlite and settings.role == "all")
                if dispatch is not None:
                    await dispatch.start()
                if ctx.handoff is not None:
                    worker.take_handoffs()
                pruner.start()
                if children is not None:
                    await children.start()
                async with self._wakeups(worker.wake) as pg:
                    self._wake = _all_of(
                        worker.wake,
                        children.wake if children is not None else None,
                        pg.notify if pg is not None else None,
                    )
                    yield worker
            finally:
                self.handoff.close()  # creates queue their deliveries from now on
                await pruner.stop()
                if children is not None:
                    children.request_stop()  # they finish their work while this worker does
                await worker.stop(settings.shutdown_grace)
                if children is not None:
                    await children.wait_stopped(settings.shutdown_grace)
                if dispatch is not None:
                    await dispatch.stop()
                await sender.close()
                await brokers.close()


async def run_worker_only(runtime: Runtime) -> None:
    """``hookd serve --role worker``: deliver until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with runtime.running(deliver=True) as worker:
            assert worker is not None
            unwatch = watch_parent(worker.wake, stop.set)
            gc_tuning.settle()
            log.info("hookd worker started")
            try:
                await stop.wait()
            finally:
                unwatch()
    finally:
        await runtime.db.close()
        log.info("hookd worker stopped")
