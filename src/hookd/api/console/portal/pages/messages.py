"""The consumer's message log (filtered by event type, endpoint, status, time), a message's
page with every attempt and its response body, and resending it to an endpoint."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from hookd.api.console.forms import read_form
from hookd.api.console.pages.messages import RESENT, STATUSES, _filters, sent_headers
from hookd.api.console.portal.render import portal_page
from hookd.api.console.portal.routing import portal_router
from hookd.api.console.portal.sessions import visitor
from hookd.api.console.render import page_links, see_other
from hookd.api.console.sessions import context
from hookd.core.domain import Attempt, ListQuery
from hookd.services import attempts as attempt_service
from hookd.services.endpoints import crud as endpoint_service
from hookd.services.errors import Invalid
from hookd.services.messages.log import message_log, message_view

router = portal_router()
PAGE_SIZE = 50
ENDPOINTS_OFFERED = 250


@router.get("/portal/messages")
async def message_list(request: Request) -> Response:
    ctx = context(request)
    app_id = visitor(request).app_id
    lookup = request.query_params.get("lookup", "").strip()
    if lookup:  # by id or eventId: to the message's page
        found = await message_view(ctx, app_id, lookup[:256])
        return see_other(f"/portal/messages/{found.message.id}")
    endpoints = await endpoint_service.list_endpoints(
        ctx, app_id, ListQuery(ENDPOINTS_OFFERED, None, "ascending")
    )
    values = {
        "endpoints": endpoints.items,
        "query": request.query_params,
        "statuses": list(STATUSES),
        "rows": [],
        "previous": None,
        "following": None,
        "error": None,
    }
    try:
        result = await message_log(
            ctx,
            app_id,
            iterator=request.query_params.get("iterator") or None,
            limit=PAGE_SIZE,
            **_filters(request),
        )
    except Invalid as exc:
        return await portal_page(
            request,
            "portal/messages/list.html",
            {**values, "error": exc.detail},
            status_code=exc.status_code,
            title="Messages",
        )
    previous, following = page_links(request, result)
    return await portal_page(
        request,
        "portal/messages/list.html",
        {**values, "rows": result.items, "previous": previous, "following": following},
        title="Messages",
    )


@router.get("/portal/messages/{msg_id}")
async def message_page(request: Request, msg_id: str) -> Response:
    ctx = context(request)
    view = await message_view(ctx, visitor(request).app_id, msg_id)
    style = ctx.settings.signature_headers
    endpoints = {endpoint.id: endpoint for endpoint, _ in view.destinations}
    by_endpoint: dict[str, list[tuple[Attempt, list[tuple[str, str]]]]] = {}
    for attempt in view.attempts:
        endpoint = endpoints.get(attempt.endpoint_id)
        headers = [] if endpoint is None else sent_headers(endpoint, view.message, attempt, style)
        by_endpoint.setdefault(attempt.endpoint_id, []).append((attempt, headers))
    return await portal_page(
        request,
        "portal/messages/detail.html",
        {"view": view, "message": view.message, "by_endpoint": by_endpoint},
        title=f"Message {view.message.id}",
    )


@router.post("/portal/messages/{msg_id}/resend")
async def resend(request: Request, msg_id: str) -> Response:
    endpoint_id = (await read_form(request)).text("endpoint_id")
    if not endpoint_id:
        raise Invalid("Choose the endpoint to resend to", loc=("form", "endpoint_id"))
    await attempt_service.resend(context(request), visitor(request).app_id, msg_id, endpoint_id)
    return see_other(f"/portal/messages/{msg_id}", notice_code=RESENT)
