"""Operational webhooks: the endpoints hookd sends its own events to (Svix's operational
webhooks: an endpoint created, disabled, a message failing...): list, create, edit, delete,
each with the event types it takes. They are the endpoints of the hidden operational
application, so the ordinary endpoint services serve them, as for the API."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from hookd.api.console.forms import Form, field_errors, read_form
from hookd.api.console.render import NavItem, notice, page, page_links, see_other
from hookd.api.console.routing import console_router
from hookd.api.console.sessions import context
from hookd.core.domain import Endpoint, ListQuery
from hookd.core.masking import mask_url
from hookd.core.operational import EVENT_TYPES
from hookd.services.endpoints import crud as service
from hookd.services.errors import Invalid, ServiceError
from hookd.services.operational import OPERATIONAL_APP_ID, ensure_app

router = console_router()
NAV = NavItem("Operational webhooks", "/console/operational")
APP = OPERATIONAL_APP_ID
PAGE_SIZE = 50
BASE = "/console/operational"
CREATED = notice("operational-created", "Operational webhook endpoint created.")
SAVED = notice("operational-saved", "Operational webhook endpoint saved.")
DELETED = notice("operational-deleted", "Operational webhook endpoint deleted.")


def _fields(form: Form) -> dict[str, Any]:
    url = form.text("url")
    if not url:
        raise Invalid("URL is required", loc=("form", "url"))
    chosen = [name for name in form.getlist("event_types") if name in EVENT_TYPES]
    return {
        "url": url,
        "description": form.get("description").strip(),
        "filter_types": chosen or None,
        "disabled": form.checked("disabled"),
    }


def _values(endpoint: Endpoint | None, form: Form | None = None) -> dict[str, Any]:
    if form is not None:
        return {
            "url": form.get("url"),
            "description": form.get("description"),
            "event_types": form.getlist("event_types"),
            "disabled": form.checked("disabled"),
        }
    if endpoint is None:
        return {"url": "", "description": "", "event_types": [], "disabled": False}
    return {
        "url": mask_url(endpoint.url),
        "description": endpoint.description,
        "event_types": list(endpoint.filter_types or ()),
        "disabled": endpoint.disabled,
    }


def _form(
    request: Request,
    endpoint: Endpoint | None,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    status_code: int = 200,
) -> Response:
    return page(
        request,
        "operational/form.html",
        {
            "endpoint": endpoint,
            "values": values,
            "errors": errors,
            "event_types": EVENT_TYPES,
        },
        status_code=status_code,
        title="Operational webhook endpoint",
    )


@router.get(BASE)
async def list_endpoints(request: Request) -> Response:
    ctx = context(request)
    await ensure_app(ctx)
    result = await service.list_endpoints(
        ctx, APP, ListQuery(PAGE_SIZE, request.query_params.get("iterator") or None)
    )
    previous, following = page_links(request, result)
    return page(
        request,
        "operational/list.html",
        {"endpoints": result.items, "previous": previous, "following": following},
        title="Operational webhooks",
    )


@router.get(BASE + "/new")
async def new_endpoint(request: Request) -> Response:
    return _form(request, None, _values(None), {})


@router.post(BASE + "/new")
async def create_endpoint(request: Request) -> Response:
    form = await read_form(request)
    ctx = context(request)
    try:
        await ensure_app(ctx)
        await service.create_endpoint(ctx, APP, _fields(form))
    except ServiceError as exc:
        errors = field_errors(exc)
        return _form(request, None, _values(None, form), errors, status_code=exc.status_code)
    return see_other(BASE, notice_code=CREATED)


@router.get(BASE + "/{endpoint_id}")
async def edit_endpoint(request: Request, endpoint_id: str) -> Response:
    ctx = context(request)
    await ensure_app(ctx)
    endpoint = await service.get_endpoint(ctx, APP, endpoint_id)
    return _form(request, endpoint, _values(endpoint), {})


@router.post(BASE + "/{endpoint_id}")
async def save_endpoint(request: Request, endpoint_id: str) -> Response:
    form = await read_form(request)
    ctx = context(request)
    await ensure_app(ctx)
    endpoint = await service.get_endpoint(ctx, APP, endpoint_id)
    try:
        await service.update_endpoint(ctx, APP, endpoint_id, _fields(form), replace=False)
    except ServiceError as exc:
        errors = field_errors(exc)
        return _form(request, endpoint, _values(None, form), errors, status_code=exc.status_code)
    return see_other(BASE, notice_code=SAVED)


@router.post(BASE + "/{endpoint_id}/delete")
async def delete_endpoint(request: Request, endpoint_id: str) -> Response:
    ctx = context(request)
    await ensure_app(ctx)
    await service.delete_endpoint(ctx, APP, endpoint_id)
    return see_other(BASE, notice_code=DELETED)
