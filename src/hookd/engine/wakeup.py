"""Cross-process wake-ups on PostgreSQL: ``NOTIFY`` as a signal that new work is due.

A signal, never a carrier: workers still poll, so a lost notification only costs latency.
Notifications are debounced (one per ``DEBOUNCE_SECONDS`` at most) because every transaction
with a pending NOTIFY takes a global lock at commit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import asyncpg
import structlog

log = structlog.get_logger("hookd.wakeup")

CHANNEL = "hookd_work"
DEBOUNCE_SECONDS = 0.01
RECONNECT_SECONDS = 1.0
HEALTH_CHECK_SECONDS = 5.0


def plain_postgres_url(url: str) -> str:
    """asyncpg wants ``postgresql://``, not SQLAlchemy's ``postgresql+asyncpg://``."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


class PgWakeups:
    """Send debounced notifications and/or listen for them, reconnecting after failures."""

    def __init__(self, url: str) -> None:
        self._url = plain_postgres_url(url)
        self._pending = asyncio.Event()
        self._on_wake: Callable[[], None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._listener: asyncpg.Connection | None = None

    def notify(self) -> None:
        """Ask for a NOTIFY soon (cheap; safe to call for every message)."""
        self._pending.set()

    async def start(self, *, send: bool, on_wake: Callable[[], None] | None) -> None:
        if send:
            self._tasks.append(asyncio.create_task(self._send_loop(), name="hookd-notify"))
        if on_wake is not None:
            self._on_wake = on_wake
            self._tasks.append(asyncio.create_task(self._listen_loop(), name="hookd-listen"))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _send_loop(self) -> None:
        conn: asyncpg.Connection | None = None
        while True:
            await self._pending.wait()
            self._pending.clear()
            try:
                if conn is None or conn.is_closed():
                    conn = await asyncpg.connect(self._url)
                await conn.execute(f"NOTIFY {CHANNEL}")
            except asyncio.CancelledError:
                if conn is not None:
                    await conn.close()
                raise
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("notify failed; workers will poll", error=str(exc))
                conn = None
                await asyncio.sleep(RECONNECT_SECONDS)
            await asyncio.sleep(DEBOUNCE_SECONDS)

    def _wake(self, *_: Any) -> None:
        if self._on_wake is not None:
            self._on_wake()

    async def _listen_loop(self) -> None:
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._url)
                await conn.add_listener(CHANNEL, self._wake)
                self._wake()  # anything that arrived while we were not listening
                while not conn.is_closed():
                    await asyncio.sleep(HEALTH_CHECK_SECONDS)
                    await conn.execute("SELECT 1")  # notices a dead server between notifications
                log.warning("lost the notification connection; reconnecting")
            except asyncio.CancelledError:
                if conn is not None and not conn.is_closed():
                    await conn.close()
                raise
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("cannot listen for notifications; polling meanwhile", error=str(exc))
            await asyncio.sleep(RECONNECT_SECONDS)
