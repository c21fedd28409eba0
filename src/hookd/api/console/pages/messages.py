"""An application's messages: the log (filtered by event type, channel, tag, time, and by
endpoint and status), lookup by id or ``eventId``, a message's page with every attempt, resend."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from hookd.api.console.forms import parse_time, read_form
from hookd.api.console.render import notice, page, page_links, see_other
from hookd.api.console.routing import console_router
from hookd.api.console.sessions import context
from hookd.core.domain import Attempt, DeliveryStatus, Endpoint, ListQuery, Message
from hookd.core.endpoint_auth import MASK
from hookd.engine.signed_headers import USER_AGENT
from hookd.engine.transformations.apply import unsigned_headers
from hookd.services import applications as app_service
from hookd.services import attempts as attempt_service
from hookd.services import background_tasks as task_service
from hookd.services.context import Context
from hookd.services.endpoints import crud as endpoint_service
from hookd.services.endpoints.crud import SENSITIVE_HEADERS
from hookd.services.errors import Invalid, NotFound
from hookd.services.messages.log import MessageView, message_log, message_view
from hookd.services.messages.replay import ReplayFilter, replay_failed

router = console_router()
PAGE_SIZE = 50
ENDPOINTS_OFFERED = 250  # endpoints in the filter's list
RESENT = notice("resent", "Resent: a new attempt is on its way.")
STATUSES = {status.text: status for status in DeliveryStatus}


def _filters(request: Request) -> dict[str, Any]:
    """The log's filters from the query string, checked."""
    query = request.query_params
    status_text = query.get("status", "")
    if status_text and status_text not in STATUSES:
        raise Invalid(f"unknown status {status_text!r}", loc=("query", "status"))
    types = [t for t in query.get("event_type", "").replace(",", " ").split() if t]
    return {
        "event_types": types or None,
        "channel": query.get("channel", "").strip() or None,
        "tag": query.get("tag", "").strip() or None,
        "endpoint_id": query.get("endpoint", "").strip() or None,
        "status": STATUSES[status_text] if status_text else None,
        "after": parse_time(query.get("after", "").strip(), label="From", loc=("query", "after")),
        "before": parse_time(query.get("before", "").strip(), label="To", loc=("query", "before")),
    }


async def log_values(request: Request, ctx: Context, app_id: str) -> tuple[dict[str, Any], int]:
    """The values of an application's message log page (its filters from the query string, the
    endpoints to filter by, a page of messages) and its status code: a bad filter is a 4xx with
    its detail in ``error``."""
    endpoints = await endpoint_service.list_endpoints(
        ctx, app_id, ListQuery(ENDPOINTS_OFFERED, None, "ascending")
    )
    values: dict[str, Any] = {
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
        return {**values, "error": exc.detail}, exc.status_code
    previous, following = page_links(request, result)
    return {**values, "rows": result.items, "previous": previous, "following": following}, 200


@router.get("/console/apps/{app_id}/messages")
async def message_list(request: Request, app_id: str) -> Response:
    ctx = context(request)
    app = await app_service.get_app(ctx, app_id)
    lookup = request.query_params.get("lookup", "").strip()
    if lookup:  # by id or eventId: to the message's page, whose address has its id
        found = await message_view(ctx, app.id, lookup[:256])
        return see_other(f"/console/apps/{app.id}/messages/{found.message.id}")
    values, status_code = await log_values(request, ctx, app.id)
    return page(
        request,
        "messages/list.html",
        {**values, "app": app},
        status_code=status_code,
        title=f"{app.name} · messages",
    )


def sent_headers(
    endpoint: Endpoint, message: Message, attempt: Attempt, style: str
) -> list[tuple[str, str]]:
    """The request headers of an attempt, rebuilt from the endpoint's current settings (hookd
    does not store the headers it sent): sensitive values and the signature are not shown."""
    headers = {
        **unsigned_headers(endpoint, message.headers, message.content_type),
        "User-Agent": USER_AGENT,
        f"{style}-id": message.id,
        f"{style}-timestamp": str(int(attempt.created_at.timestamp())),
        f"{style}-signature": f"v1,{MASK} (computed per attempt, not stored)",
    }
    return [
        (name, MASK if name.lower() in SENSITIVE_HEADERS else value)
        for name, value in headers.items()
    ]


def message_values(ctx: Context, view: MessageView) -> dict[str, Any]:
    """The values of a message's page: the message, its destinations, and its attempts grouped
    by endpoint, each with the request headers rebuilt (``sent_headers``)."""
    style = ctx.settings.signature_headers
    by_endpoint: dict[str, list[tuple[Attempt, list[tuple[str, str]]]]] = {}
    endpoints = {endpoint.id: endpoint for endpoint, _ in view.destinations}
    for attempt in view.attempts:
        endpoint = endpoints.get(attempt.endpoint_id)
        headers = [] if endpoint is None else sent_headers(endpoint, view.message, attempt, style)
        by_endpoint.setdefault(attempt.endpoint_id, []).append((attempt, headers))
    return {"view": view, "message": view.message, "by_endpoint": by_endpoint}


@router.get("/console/apps/{app_id}/messages/{ref}")
async def message_page(request: Request, app_id: str, ref: str) -> Response:
    ctx = context(request)
    app = await app_service.get_app(ctx, app_id)
    view = await message_view(ctx, app.id, ref)
    return page(
        request,
        "messages/detail.html",
        {"app": app, **message_values(ctx, view)},
        title=f"Message {view.message.id}",
    )


async def resend_posted(request: Request, app_id: str, msg_id: str) -> None:
    """Resend the message to the endpoint the form posts (``endpoint_id``)."""
    endpoint_id = (await read_form(request)).text("endpoint_id")
    if not endpoint_id:
        raise Invalid("Choose the endpoint to resend to", loc=("form", "endpoint_id"))
    await attempt_service.resend(context(request), app_id, msg_id, endpoint_id)


@router.post("/console/apps/{app_id}/messages/{msg_id}/resend")
async def resend(request: Request, app_id: str, msg_id: str) -> Response:
    await resend_posted(request, app_id, msg_id)
    return see_other(f"/console/apps/{app_id}/messages/{msg_id}", notice_code=RESENT)


REPLAY_FIELDS = ("event_type", "channel", "tag", "endpoint", "after", "before")


@router.post("/console/apps/{app_id}/messages/replay")
async def replay(request: Request, app_id: str) -> Response:
    """Replay the failed deliveries of the messages the log's filters (posted) choose."""
    form = await read_form(request)
    types = form.words("event_type")
    chosen = ReplayFilter(
        endpoint_id=form.optional("endpoint"),
        event_types=types,
        channel=form.optional("channel"),
        tag=form.optional("tag"),
        after=form.time("after", label="From"),
        before=form.time("before", label="To"),
    )
    task = await replay_failed(context(request), app_id, chosen)
    return see_other(f"/console/apps/{app_id}/messages/replay/{task.id}")


@router.get("/console/apps/{app_id}/messages/replay/{task_id}")
async def replay_progress(request: Request, app_id: str, task_id: str) -> Response:
    """The replay's progress: the whole page, or (htmx polling it) the progress fragment."""
    ctx = context(request)
    app = await app_service.get_app(ctx, app_id)
    task = await task_service.get_task(ctx, task_id, app_id=app.id)
    if task.task != task_service.MESSAGE_REPLAY:
        raise NotFound(f"background task {task_id!r} is not a replay")
    done = int(task.data.get("done", 0))
    total = max(int(task.data.get("total", 0)), done)
    values = {"app": app, "task": task, "done": done, "total": total}
    if request.headers.get("hx-request"):
        return page(request, "messages/replay_progress.html", values)
    return page(request, "messages/replay.html", values, title="Replay failed messages")
