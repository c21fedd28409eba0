"""Bulk replay: the failed deliveries of an application's messages, chosen by the message log's
filters, made due again with a fresh retry budget, as a background task with its progress.

The task counts what matches first, then makes it due again in batches (one short transaction
each), writing ``data`` as it goes: ``{"total": n, "done": k}``; finished, ``done`` is how many
deliveries were queued again. Both passes are keyset scans of ``ix_deliveries_endpoint``
(endpoint, status, message id); a delivery that fails again after the count is not picked up
twice (the scan moves past it), and one that fails while the task runs may be left for the
next replay.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hookd import ids
from hookd.core.domain import BackgroundTask, DeliveryStatus
from hookd.services import background_tasks
from hookd.services.applications import require_app
from hookd.services.context import Context
from hookd.services.endpoints.crud import require_endpoint
from hookd.store import deliveries, message_deliveries
from hookd.store import endpoints as endpoint_store
from hookd.store.codec import to_ms

BATCH = 500
ENDPOINTS_PAGE = 250


@dataclass(frozen=True, slots=True)
class ReplayFilter:
    """Which failed deliveries: the message log's filters (None: any)."""

    endpoint_id: str | None = None
    event_types: list[str] | None = None
    channel: str | None = None
    tag: str | None = None
    before: datetime | None = None
    after: datetime | None = None


async def replay_failed(ctx: Context, app_id: str, chosen: ReplayFilter) -> BackgroundTask:
    """Start replaying the application's failed deliveries that ``chosen`` matches (to its
    endpoint, or to every endpoint of the application); the running task is returned."""
    async with ctx.db.read() as conn:
        app = await require_app(conn, app_id)
        if chosen.endpoint_id is not None:
            endpoint_ids = [(await require_endpoint(conn, app.id, chosen.endpoint_id)).id]
        else:
            endpoint_ids = await _all_endpoints(conn, app.id)

    async def work(progress: background_tasks.Progress) -> dict[str, Any]:
        total = 0
        for endpoint_id in endpoint_ids:
            async for batch in _batches(ctx, endpoint_id, chosen):
                total += len(batch)
                await progress({"total": total, "done": 0, "counting": True})
        done = 0
        for endpoint_id in endpoint_ids:
            async for batch in _batches(ctx, endpoint_id, chosen):
                async with ctx.db.write() as conn:
                    done += await deliveries.rearm(
                        conn,
                        endpoint_id=endpoint_id,
                        now_ms=to_ms(ctx.clock()),
                        msg_ids=batch,
                        statuses=(DeliveryStatus.FAIL,),
                    )
                ctx.wake_worker()
                total = max(total, done)
                await progress({"total": total, "done": done})
        return {"total": max(total, done), "done": done}

    return await background_tasks.run_with_progress(
        ctx, background_tasks.MESSAGE_REPLAY, work, app_id=app.id
    )


async def _all_endpoints(conn: AsyncConnection, app_id: str) -> list[str]:
    found: list[str] = []
    iterator: str | None = None
    while True:
        page = await endpoint_store.list_endpoints(
            conn, app_id, iterator=iterator, limit=ENDPOINTS_PAGE, descending=False
        )
        found.extend(endpoint.id for endpoint in page.items)
        if page.done or not page.iterator:
            return found
        iterator = page.iterator


async def _batches(
    ctx: Context, endpoint_id: str, chosen: ReplayFilter
) -> AsyncIterator[list[str]]:
    """The matching failed message ids to ``endpoint_id``, BATCH at a time, oldest first."""
    above = ""
    before_id = ids.floor_id(ids.MESSAGE, chosen.before) if chosen.before else None
    after_id = ids.floor_id(ids.MESSAGE, chosen.after) if chosen.after else None
    while True:
        async with ctx.db.read() as conn:
            batch = await message_deliveries.ids_with_status(
                conn,
                endpoint_id,
                DeliveryStatus.FAIL,
                above_id=above,
                limit=BATCH,
                before_id=before_id,
                after_id=after_id,
                event_types=chosen.event_types,
                channel=chosen.channel,
                tag=chosen.tag,
            )
        if not batch:
            return
        yield batch
        above = batch[-1]
