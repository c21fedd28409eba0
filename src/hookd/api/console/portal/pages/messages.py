"""The consumer's message log (filtered by event type, endpoint, status, time), a message's
page with every attempt and its response body, and resending it to an endpoint."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from hookd.api.console.pages.messages import RESENT, log_values, message_values, resend_posted
from hookd.api.console.portal.render import portal_page
from hookd.api.console.portal.routing import portal_router
from hookd.api.console.portal.sessions import visitor
from hookd.api.console.render import see_other
from hookd.api.console.sessions import context
from hookd.services.messages.log import message_view

router = portal_router()


@router.get("/portal/messages")
async def message_list(request: Request) -> Response:
    ctx = context(request)
    app_id = visitor(request).app_id
    lookup = request.query_params.get("lookup", "").strip()
    if lookup:  # by id or eventId: to the message's page
        found = await message_view(ctx, app_id, lookup[:256])
        return see_other(f"/portal/messages/{found.message.id}")
    values, status_code = await log_values(request, ctx, app_id)
    return await portal_page(
        request, "portal/messages/list.html", values, status_code=status_code, title="Messages"
    )


@router.get("/portal/messages/{msg_id}")
async def message_page(request: Request, msg_id: str) -> Response:
    ctx = context(request)
    view = await message_view(ctx, visitor(request).app_id, msg_id)
    return await portal_page(
        request,
        "portal/messages/detail.html",
        message_values(ctx, view),
        title=f"Message {view.message.id}",
    )


@router.post("/portal/messages/{msg_id}/resend")
async def resend(request: Request, msg_id: str) -> Response:
    await resend_posted(request, visitor(request).app_id, msg_id)
    return see_other(f"/portal/messages/{msg_id}", notice_code=RESENT)
