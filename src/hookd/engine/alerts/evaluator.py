"""The alert evaluator: every ``HOOKD_ALERT_INTERVAL`` seconds, in whichever process holds the
``alerts`` lease, evaluate the rules (``services.alerts.evaluate``) and send the notices.

Every process the runtime runs (API, worker, both) runs an evaluator; the lease in the
database lets one of them evaluate at a time. The holder renews the lease at each evaluation;
if it dies, the lease runs out (``lease_seconds``: three intervals, at least 5 s) and another
process takes it. A stopping holder gives the lease up. Notices go through ``notify``
(``services.alerts.notify.notify``, the channels, by default) after the changes are committed;
a notification that fails or hangs is logged and never stops the evaluator.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Sequence

import structlog

from hookd.services.alerts.evaluate import Evaluation, evaluate, release_lease, take_lease
from hookd.services.alerts.notice import AlertNotice
from hookd.services.alerts.notify import notify as notify_channels
from hookd.services.context import Context
from hookd.services.errors import unavailable

log = structlog.get_logger("hookd.alerts")

Notify = Callable[[Context, AlertNotice, Sequence[str]], Awaitable[None]]
NOTIFY_TIMEOUT_SECONDS = 30.0
MIN_LEASE_SECONDS = 5.0


def holder_name() -> str:
    """This process, as a lease holder: host, pid and a random part (a pid is reused)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"


class AlertEvaluator:
    """Evaluates the alert rules every ``interval`` seconds while it holds the lease."""

    def __init__(
        self,
        ctx: Context,
        *,
        notify: Notify | None = None,
        interval: float | None = None,
        holder: str | None = None,
    ) -> None:
        self.ctx = ctx
        self.interval = ctx.settings.alert_interval if interval is None else interval
        self.lease_seconds = max(3 * self.interval, MIN_LEASE_SECONDS)
        self.holder = holder or holder_name()
        self._notify: Notify = notify_channels if notify is None else notify
        self._task: asyncio.Task[None] | None = None
        self.evaluations = 0

    def start(self) -> None:
        if self.interval > 0:
            self._task = asyncio.create_task(self._run(), name="hookd-alerts")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        try:
            await release_lease(self.ctx, self.holder)
        except Exception as exc:  # the database is away: the lease runs out by itself
            log.warning("alert lease not released", error=type(exc).__name__)

    async def run_once(self) -> Evaluation | None:
        """Take (or renew) the lease and, holding it, evaluate once and send the notices;
        None when another process holds it."""
        if not await take_lease(self.ctx, self.holder, self.lease_seconds):
            return None
        result = await evaluate(self.ctx, self.holder, self.lease_seconds)
        if result is None:
            return None
        self.evaluations += 1
        self.ctx.telemetry.alert_issues_open(result.unresolved)
        if result.notices:
            await asyncio.gather(*(self._send(notice, ids) for notice, ids in result.notices))
        return result

    async def _send(self, notice: AlertNotice, channel_ids: Sequence[str]) -> None:
        try:
            async with asyncio.timeout(NOTIFY_TIMEOUT_SECONDS):
                await self._notify(self.ctx, notice, channel_ids)
        except Exception as exc:
            log.warning(
                "alert notice failed",
                issue=notice.issue_id,
                notice=notice.event,
                error=type(exc).__name__,
            )

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if unavailable(exc) is not None:
                    log.warning("alert evaluation skipped: database unavailable")
                else:
                    log.exception("alert evaluation failed; trying again at the next interval")
            await asyncio.sleep(self.interval)
