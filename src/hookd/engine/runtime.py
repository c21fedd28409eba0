"""The delivery engine's lifetime: start the sender and the worker, stop them gracefully."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

import structlog

from hookd import gc_tuning
from hookd.engine.delivery_processes import children_for, watch_parent
from hookd.engine.destinations import BrokerDestinations
from hookd.engine.http import HttpSender
from hookd.engine.pruner import Pruner
from hookd.engine.signed_headers import USER_AGENT
from hookd.engine.transform import close_default_sandbox
from hookd.engine.wakeup import PgWakeups
from hookd.engine.worker import DeliveryWorker
from hookd.services.context import Context

if TYPE_CHECKING:
    from hookd.engine.queue.dispatch import RedisDispatch
    from hookd.engine.queue.index import RedisIndex

log = structlog.get_logger("hookd")


@asynccontextmanager
async def queue_index(ctx: Context) -> AsyncIterator[RedisIndex | None]:
    """With ``HOOKD_QUEUE_URL``: every committed ``mark_ready`` is signalled to Redis."""
    if not ctx.settings.queue_url:
        yield None
        return
    from hookd.engine.queue.index import RedisIndex  # redis is imported only when configured

    index = RedisIndex(ctx.settings.queue_url, ctx.settings.queue_prefix, ctx.clock)
    ctx.db.on_ready = index.signal
    await index.start()
    try:
        yield index
    finally:
        ctx.db.on_ready = None
        await index.close()


@asynccontextmanager
async def wakeups(ctx: Context, *, deliver: bool) -> AsyncIterator[None]:
    """Route ``ctx.wake_worker``: to this process's worker, and on PostgreSQL to all workers
    (not needed with the Redis queue index: it wakes the workers itself)."""
    if ctx.db.is_sqlite or ctx.settings.queue_url:
        yield
        return
    pg = PgWakeups(ctx.db.url)
    local = ctx.wake_worker

    def wake_everyone() -> None:
        local()
        pg.notify()

    ctx.wake_worker = wake_everyone
    await pg.start(send=True, on_wake=local if deliver else None)
    try:
        yield
    finally:
        await pg.close()


@asynccontextmanager
async def delivery_engine(ctx: Context) -> AsyncIterator[DeliveryWorker]:
    """Run deliveries while the block runs; on exit finish or release what is in flight."""
    sender = HttpSender(
        ctx.settings.networks, user_agent=USER_AGENT, limit=ctx.settings.concurrency
    )
    await sender.start()
    brokers = BrokerDestinations(ctx.settings.networks)
    await brokers.start()
    worker = DeliveryWorker(ctx, sender, brokers)
    ctx.wake_worker = worker.wake
    pruner = Pruner(ctx)
    children = children_for(ctx.settings)
    async with AsyncExitStack() as stack:
        index = await stack.enter_async_context(queue_index(ctx))
        dispatch: RedisDispatch | None = None
        try:
            if index is not None:
                from hookd.engine.queue.dispatch import RedisDispatch

                dispatch = RedisDispatch(ctx, index, worker.wake)
                worker.dispatch = dispatch
            # The serving process owns an embedded SQLite file (its delivery processes, if any,
            # start after this and stop with it), so anything left claimed is ours to redo.
            await worker.start(reclaim_all=ctx.db.is_sqlite and ctx.settings.role == "all")
            if dispatch is not None:
                await dispatch.start()
            if ctx.db.is_sqlite and ctx.settings.role == "all":
                # The same process takes the creates: they hand deliveries to the worker directly.
                ctx.handoff = worker.handoff
            pruner.start()
            if children is not None:
                await children.start()
                ctx.wake_worker = children.wake_with(worker.wake)
                if ctx.handoff is not None:
                    # The children's deliveries count against the endpoints' caps too.
                    ctx.handoff.shared = True
            async with wakeups(ctx, deliver=True):
                yield worker
        finally:
            ctx.handoff = None
            await pruner.stop()
            if children is not None:
                children.request_stop()  # they finish their work while this worker does
            await worker.stop(ctx.settings.shutdown_grace)
            if children is not None:
                await children.wait_stopped(ctx.settings.shutdown_grace)
            if dispatch is not None:
                await dispatch.stop()
            await sender.close()
            await brokers.close()
            await close_default_sandbox()


async def run_worker_only(ctx: Context) -> None:
    """``hookd serve --role worker``: deliver until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with delivery_engine(ctx) as worker:
            unwatch = watch_parent(worker.wake, stop.set)
            gc_tuning.settle()
            log.info("hookd worker started")
            try:
                await stop.wait()
            finally:
                unwatch()
    finally:
        await ctx.db.close()
        log.info("hookd worker stopped")
