"""The event catalog, read-only: the event types the session's feature flags let it see,
with their descriptions, schemas and examples."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from hookd.api.console.portal.render import portal_page
from hookd.api.console.portal.routing import portal_router
from hookd.api.console.portal.sessions import visitor
from hookd.api.console.render import page_links
from hookd.api.console.sessions import context
from hookd.core.domain import ListQuery
from hookd.services import event_types as service

router = portal_router()
PAGE_SIZE = 50


@router.get("/portal/event-types")
async def catalog(request: Request) -> Response:
    result = await service.list_event_types(
        context(request),
        ListQuery(PAGE_SIZE, request.query_params.get("iterator") or None, "ascending"),
        include_archived=False,
        feature_flags=visitor(request).principal.feature_flags,
    )
    previous, following = page_links(request, result)
    return await portal_page(
        request,
        "portal/event_types.html",
        {"types": result.items, "previous": previous, "following": following},
        title="Event catalog",
    )
