"""An application's endpoints with their health, for a list page (the console's)."""

from __future__ import annotations

from hookd.core.breaker import Health, HealthState
from hookd.core.domain import Endpoint, Page
from hookd.services.applications import require_app
from hookd.services.context import Context
from hookd.store import endpoint_health as health_store
from hookd.store import endpoints as store


async def endpoints_with_health(
    ctx: Context, app_id: str, *, iterator: str | None, limit: int
) -> Page[tuple[Endpoint, HealthState]]:
    """One page of endpoints (oldest first) and each one's health state: three indexed queries
    in one snapshot, whatever the page size."""
    async with ctx.db.read() as conn:
        app = await require_app(conn, app_id)
        page = await store.list_endpoints(
            conn, app.id, iterator=iterator, limit=limit, descending=False
        )
        health = await health_store.health_of(conn, [ep.id for ep in page.items])
    items = [(ep, health.get(ep.id, Health()).state(disabled=ep.disabled)) for ep in page.items]
    return Page(items, page.iterator, page.prev_iterator, page.done)
