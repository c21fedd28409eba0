"""Background tasks (Svix's ``qtask_``): recover and the bulk operations, with their progress."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.core.domain import BackgroundTask, Page
from hookd.store.codec import from_ms, to_ms
from hookd.store.pages import paginate
from hookd.store.schema import background_tasks

RUNNING = "running"
FINISHED = "finished"
FAILED = "failed"


def _task(row: Row[Any]) -> BackgroundTask:
    m = row._mapping
    return BackgroundTask(
        id=m["id"],
        task=m["task"],
        status=m["status"],
        app_id=m["app_id"],
        data=dict(m["data"]),
        created_at=from_ms(m["created_at"]),
        updated_at=from_ms(m["updated_at"]),
    )


async def insert_task(conn: AsyncConnection, task: BackgroundTask) -> None:
    await conn.execute(
        insert(background_tasks).values(
            id=task.id,
            task=task.task,
            status=task.status,
            app_id=task.app_id,
            data=task.data,
            created_at=to_ms(task.created_at),
            updated_at=to_ms(task.updated_at),
        )
    )


async def update_task(
    conn: AsyncConnection, task_id: str, *, status: str, data: dict[str, Any], now: datetime
) -> None:
    await conn.execute(
        update(background_tasks)
        .where(background_tasks.c.id == task_id)
        .values(status=status, data=data, updated_at=to_ms(now))
    )


async def get_task(conn: AsyncConnection, task_id: str) -> BackgroundTask | None:
    row = (
        await conn.execute(select(background_tasks).where(background_tasks.c.id == task_id))
    ).first()
    return _task(row) if row else None


async def list_tasks(
    conn: AsyncConnection,
    *,
    status: str | None,
    tasks: Collection[str],
    stale_before: datetime,
    iterator: str | None,
    limit: int,
    descending: bool,
) -> Page[BackgroundTask]:
    """Tasks of the types in ``tasks``; a running task whose heartbeat is older than
    ``stale_before`` counts as failed (its process went away)."""
    query = select(background_tasks).where(background_tasks.c.task.in_(list(tasks)))
    alive = background_tasks.c.updated_at >= to_ms(stale_before)
    if status == RUNNING:
        query = query.where(background_tasks.c.status == RUNNING, alive)
    elif status == FAILED:
        query = query.where(
            or_(
                background_tasks.c.status == FAILED,
                and_(background_tasks.c.status == RUNNING, ~alive),
            )
        )
    elif status is not None:
        query = query.where(background_tasks.c.status == status)
    return await paginate(
        conn,
        query,
        background_tasks.c.id,
        _task,
        iterator=iterator,
        limit=limit,
        descending=descending,
    )
