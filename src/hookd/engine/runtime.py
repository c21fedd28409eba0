"""The delivery engine's lifetime: start the sender and the worker, stop them gracefully."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog

from hookd import gc_tuning
from hookd.engine.destinations import BrokerDestinations
from hookd.engine.http import HttpSender
from hookd.engine.pruner import Pruner
from hookd.engine.transform import close_default_sandbox
from hookd.engine.wakeup import PgWakeups
from hookd.engine.worker import USER_AGENT, DeliveryWorker
from hookd.services.context import Context

log = structlog.get_logger("hookd")


@asynccontextmanager
async def wakeups(ctx: Context, *, deliver: bool) -> AsyncIterator[None]:
    """Route ``ctx.wake_worker``: to this process's worker, and on PostgreSQL to all workers."""
    if ctx.db.is_sqlite:
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
    try:
        # One process owns an embedded SQLite file, so anything left claimed is ours to redo.
        await worker.start(reclaim_all=ctx.db.is_sqlite)
        if ctx.db.is_sqlite and ctx.settings.role == "all":
            # The same process takes the creates: they hand deliveries to the worker directly.
            ctx.handoff = worker.handoff
        pruner.start()
        async with wakeups(ctx, deliver=True):
            yield worker
    finally:
        ctx.handoff = None
        await pruner.stop()
        await worker.stop(ctx.settings.shutdown_grace)
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
        async with delivery_engine(ctx):
            gc_tuning.settle()
            log.info("hookd worker started")
            await stop.wait()
    finally:
        await ctx.db.close()
        log.info("hookd worker stopped")
