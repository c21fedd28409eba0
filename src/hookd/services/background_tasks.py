"""Svix's background tasks: recover and the bulk operations, fetchable by their ``qtask_`` id.

Recover and a source's bulk replay run inside their request (one transaction each) and are
recorded finished in that same transaction. Expunging all of an application's payloads runs in
batches after the answer, in the API process that took the request: each batch is its own short
transaction that also writes the task's progress (``data.messagesPurged``) and heartbeat
(``updatedAt``). A running task whose heartbeat is older than :data:`STALE_AFTER` reads as failed:
the process running it went away (the operation is idempotent; start it again). The usage
statistics (``services.statistics``) run the same way, in one step (``run_in_background``).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd import ids
from hookd.core.domain import BackgroundTask, ListQuery, Page
from hookd.services.applications import require_app
from hookd.services.context import Context
from hookd.services.errors import Invalid, NotFound
from hookd.store import background_tasks as store
from hookd.store import messages as message_store
from hookd.store.background_tasks import FAILED, FINISHED, RUNNING

log = structlog.get_logger("hookd.background_tasks")

RECOVER = "endpoint.recover"
PURGE_CONTENT = "application.purge_content"
APP_STATS = "application.stats"
EVENT_TYPE_AGGREGATE = "event-type.aggregate"
SOURCE_REPLAY = "source.replay"  # hookd's own: a source's bulk replay
MESSAGE_REPLAY = "message.replay"  # hookd's own: failed messages sent again, by filter
# Svix's task types (its SDKs refuse any other value when they read a list).
SVIX_TASKS = frozenset(
    {
        "endpoint.replay",
        RECOVER,
        APP_STATS,
        "message.broadcast",
        "sdk.generate",
        EVENT_TYPE_AGGREGATE,
        PURGE_CONTENT,
        "endpoint.bulk-replay",
    }
)
HOOKD_TASKS = frozenset({SOURCE_REPLAY, MESSAGE_REPLAY})
STATUSES = (RUNNING, FINISHED, FAILED)
STALE_AFTER = timedelta(minutes=5)
PURGE_BATCH = 1000

# The purges this process runs (a reference keeps each asyncio task alive until it ends).
_running: set[asyncio.Task[None]] = set()


def _as_seen(task: BackgroundTask, now: datetime) -> BackgroundTask:
    """A running task whose heartbeat stopped is a failed one."""
    if task.status == RUNNING and task.updated_at < now - STALE_AFTER:
        data = {**task.data, "error": "interrupted: the process running it stopped"}
        return dataclasses.replace(task, status=FAILED, data=data)
    return task


async def record(
    conn: AsyncConnection, task: str, app_id: str | None, data: dict[str, Any], now: datetime
) -> BackgroundTask:
    """Record a task that finished inside the caller's transaction."""
    done = BackgroundTask(ids.new_id(ids.TASK, now), task, FINISHED, app_id, data, now, now)
    await store.insert_task(conn, done)
    return done


async def get_task(ctx: Context, task_id: str, *, app_id: str | None = None) -> BackgroundTask:
    """The task; with ``app_id``, only a task of that application (another one is not found)."""
    async with ctx.db.read() as conn:
        task = await store.get_task(conn, task_id)
    if task is None or (app_id is not None and task.app_id != app_id):
        raise NotFound(f"background task {task_id!r} not found")
    return _as_seen(task, ctx.clock())


async def list_tasks(
    ctx: Context, query: ListQuery, *, status: str | None, task: str | None
) -> Page[BackgroundTask]:
    """Tasks, newest first by default; hookd's own task types only when ``task`` names one.

    ``status`` is a task's (running, finished, failed), not a delivery's."""
    if status is not None and status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}", loc=("query", "status"))
    if task is not None and task not in SVIX_TASKS | HOOKD_TASKS:
        known = ", ".join(sorted(SVIX_TASKS | HOOKD_TASKS))
        raise Invalid(f"task must be one of {known}", loc=("query", "task"))
    now = ctx.clock()
    async with ctx.db.read() as conn:
        page = await store.list_tasks(
            conn,
            status=status,
            tasks=[task] if task is not None else SVIX_TASKS,
            stale_before=now - STALE_AFTER,
            iterator=query.iterator,
            limit=query.limit,
            descending=query.descending(True),
        )
    return dataclasses.replace(page, items=[_as_seen(item, now) for item in page.items])


async def expunge_all_contents(ctx: Context, app_id: str) -> BackgroundTask:
    """Start expunging the payloads of every message the application has now."""
    now = ctx.clock()
    async with ctx.db.write() as conn:
        app = await require_app(conn, app_id)
        task = BackgroundTask(
            ids.new_id(ids.TASK, now),
            PURGE_CONTENT,
            RUNNING,
            app.id,
            {"messagesPurged": 0},
            now,
            now,
        )
        await store.insert_task(conn, task)
    # Every message created up to now (ids of the next millisecond on are later).
    before_id = ids.floor_id(ids.MESSAGE, now + timedelta(milliseconds=1))
    _spawn(_purge(ctx, task.id, app.id, before_id))
    return task


def _spawn(work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` after the answer, in this process (kept referenced until it ends)."""
    runner = asyncio.get_running_loop().create_task(work)
    _running.add(runner)
    runner.add_done_callback(_running.discard)


async def run_in_background(
    ctx: Context,
    task: str,
    work: Callable[[], Awaitable[dict[str, Any]]],
    *,
    app_id: str | None = None,
) -> BackgroundTask:
    """Record a running task and run ``work`` after the answer; what it returns becomes the
    finished task's ``data`` (an error: the task failed, logged)."""
    return await run_with_progress(ctx, task, lambda _: work(), app_id=app_id)


Progress = Callable[[dict[str, Any]], Awaitable[None]]


async def run_with_progress(
    ctx: Context,
    task: str,
    work: Callable[[Progress], Awaitable[dict[str, Any]]],
    *,
    app_id: str | None = None,
) -> BackgroundTask:
    """As :func:`run_in_background`; ``work`` is given a function that records its progress
    (the running task's ``data``) and heartbeat, each call a short transaction of its own."""
    now = ctx.clock()
    running = BackgroundTask(ids.new_id(ids.TASK, now), task, RUNNING, app_id, {}, now, now)
    async with ctx.db.write() as conn:
        await store.insert_task(conn, running)

    async def progress(data: dict[str, Any]) -> None:
        async with ctx.db.write() as conn:
            await store.update_task(conn, running.id, status=RUNNING, data=data, now=ctx.clock())

    async def finish() -> None:
        try:
            data, status = await work(progress), FINISHED
        except Exception:
            log.exception("background task failed", task_id=running.id, task=task)
            data, status = {"error": "internal error (see the server log)"}, FAILED
        async with ctx.db.write() as conn:
            await store.update_task(conn, running.id, status=status, data=data, now=ctx.clock())

    _spawn(finish())
    return running


async def _purge(ctx: Context, task_id: str, app_id: str, before_id: str) -> None:
    purged = 0
    after_id = ""  # below every id
    try:
        while True:
            async with ctx.db.write() as conn:
                count, last = await message_store.expunge_app_batch(
                    conn, app_id, after_id, before_id, PURGE_BATCH
                )
                done = last is None
                await store.update_task(
                    conn,
                    task_id,
                    status=FINISHED if done else RUNNING,
                    data={"messagesPurged": purged + count},
                    now=ctx.clock(),
                )
            purged, after_id = purged + count, last or after_id  # once committed
            if done:
                return
    except Exception:
        log.exception("background task failed", task_id=task_id, task=PURGE_CONTENT)
        async with ctx.db.write() as conn:
            await store.update_task(
                conn,
                task_id,
                status=FAILED,
                data={"messagesPurged": purged, "error": "internal error (see the server log)"},
                now=ctx.clock(),
            )
