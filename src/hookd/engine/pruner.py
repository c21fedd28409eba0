"""The worker's periodic prune: expired payloads, old counters and resolved alert issues
(HOOKD_STATS_RETENTION_DAYS) and, with HOOKD_RETENTION_DAYS, old records."""

from __future__ import annotations

import asyncio
import contextlib
import random
from datetime import timedelta

import structlog

from hookd.services.context import Context
from hookd.services.retention import prune, rejected_retention, stats_retention

log = structlog.get_logger("hookd.pruner")


class Pruner:
    """Runs ``prune`` every ``HOOKD_PRUNE_INTERVAL`` seconds (first at a random point in it, so
    several workers spread out); failures are logged and retried at the next interval."""

    def __init__(self, ctx: Context, rng: random.Random | None = None) -> None:
        self.ctx = ctx
        self.interval = ctx.settings.prune_interval
        days = ctx.settings.retention_days
        self.older_than = timedelta(days=days) if days else None
        self.rejected_older_than = rejected_retention(ctx.settings.rejected_retention_days)
        self.stats_older_than = stats_retention(ctx.settings.stats_retention_days)
        self.rng = rng or random.Random()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.interval > 0:
            self._task = asyncio.create_task(self._run(), name="hookd-pruner")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.interval))
        while True:
            try:
                counts = await prune(
                    self.ctx.db,
                    self.ctx.clock(),
                    older_than=self.older_than,
                    rejected_older_than=self.rejected_older_than,
                    stats_older_than=self.stats_older_than,
                )
                if counts.total:
                    log.info("pruned", **counts.as_dict())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("prune failed; trying again at the next interval")
            await asyncio.sleep(self.interval)
