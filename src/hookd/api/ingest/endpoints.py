"""/ingest/api/v1/source/{source_id}/endpoint: where a source forwards (Svix's Ingest API).

A source's forwarding endpoints are the endpoints of its application, so these are the routes of
/api/v1/app/{app_id}/endpoint (api/endpoint_routes.py) with the source as the owner.
"""

from __future__ import annotations

from hookd.api.endpoint_routes import Owner, Summaries, endpoint_router
from hookd.api.params import CtxDep
from hookd.services.context import Context
from hookd.services.ingest.sources import get_source


async def _app_id(ctx: Context, source_id: str) -> str:
    """The source's application (same id), found by the source's id or uid."""
    return (await get_source(ctx, source_id)).id


async def source(ctx: CtxDep, source_id: str) -> Owner:
    """The source the path names."""
    return Owner(ctx, source_id, _app_id)


router = endpoint_router(
    "/ingest/api/v1/source/{source_id}/endpoint",
    "Ingest Endpoint",
    source,
    Summaries(
        listing="List forwarding endpoints",
        create="Add a forwarding endpoint",
        get="Get a forwarding endpoint",
        delete="Delete a forwarding endpoint",
    ),
)
