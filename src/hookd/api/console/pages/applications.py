"""Applications: list and search, create, edit, delete (after a confirmation page)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from starlette.responses import Response

from hookd.api.console.forms import Form, field_errors, read_form
from hookd.api.console.render import NavItem, notice, page, page_links, see_other
from hookd.api.console.routing import console_router
from hookd.api.console.sessions import context
from hookd.api.send.models import RATE_LIMIT_MAX, UID
from hookd.core.domain import ListQuery
from hookd.services import applications as service
from hookd.services.errors import Invalid, ServiceError

router = console_router()
NAV = NavItem("Applications", "/console/apps")
PAGE_SIZE = 50
CREATED = notice("app-created", "Application created.")
SAVED = notice("app-saved", "Application saved.")
DELETED = notice("app-deleted", "Application deleted.")


def _fields(form: Form) -> dict[str, Any]:
    """An application's fields from its form, checked as the API's model checks them."""
    name = form.text("name")
    if not name or len(name) > 256:
        raise Invalid("Name is required (at most 256 characters)", loc=("form", "name"))
    uid = form.optional("uid")
    if uid is not None and (len(uid) > 256 or not re.fullmatch(UID, uid)):
        raise Invalid(
            "UID uses letters, digits, '-', '_' and '.' (at most 256)", loc=("form", "uid")
        )
    rate_limit = form.integer("rate_limit", label="Rate limit", minimum=1, maximum=RATE_LIMIT_MAX)
    return {"name": name, "uid": uid, "rate_limit": rate_limit}


@router.get("/console/apps")
async def list_apps(request: Request) -> Response:
    search = request.query_params.get("q", "").strip()[:256] or None
    result = await service.list_apps(
        context(request),
        ListQuery(PAGE_SIZE, request.query_params.get("iterator") or None, "descending"),
        search=search,
    )
    previous, following = page_links(request, result)
    # htmx's search-as-you-type asks for the rows only (its target names them).
    rows = request.headers.get("hx-target") == "app-rows"
    template = "applications/rows.html" if rows else "applications/list.html"
    return page(
        request,
        template,
        {"apps": result.items, "q": search or "", "previous": previous, "following": following},
        title="Applications",
    )


@router.get("/console/apps/new")
async def new_app(request: Request) -> Response:
    return page(
        request,
        "applications/form.html",
        {"app": None, "values": {}, "errors": {}},
        title="New application",
    )


@router.post("/console/apps/new")
async def create_app(request: Request) -> Response:
    form = await read_form(request)
    try:
        app, _ = await service.create_app(context(request), _fields(form))
    except ServiceError as exc:
        return page(
            request,
            "applications/form.html",
            {"app": None, "values": form, "errors": field_errors(exc)},
            status_code=exc.status_code,
            title="New application",
        )
    return see_other(f"/console/apps/{app.id}/endpoints", notice_code=CREATED)


@router.get("/console/apps/{app_id}")
async def app_home(app_id: str) -> Response:
    return see_other(f"/console/apps/{app_id}/endpoints")


@router.get("/console/apps/{app_id}/edit")
async def edit_app(request: Request, app_id: str) -> Response:
    app = await service.get_app(context(request), app_id)
    values = {"name": app.name, "uid": app.uid or "", "rate_limit": app.rate_limit or ""}
    return page(
        request,
        "applications/form.html",
        {"app": app, "values": values, "errors": {}},
        title=f"{app.name} · settings",
    )


@router.post("/console/apps/{app_id}/edit")
async def save_app(request: Request, app_id: str) -> Response:
    form = await read_form(request)
    app = await service.get_app(context(request), app_id)
    try:
        await service.update_app(context(request), app.id, _fields(form), replace=False)
    except ServiceError as exc:
        return page(
            request,
            "applications/form.html",
            {"app": app, "values": form, "errors": field_errors(exc)},
            status_code=exc.status_code,
            title=f"{app.name} · settings",
        )
    return see_other(f"/console/apps/{app.id}/edit", notice_code=SAVED)


@router.get("/console/apps/{app_id}/delete")
async def confirm_delete(request: Request, app_id: str) -> Response:
    app = await service.get_app(context(request), app_id)
    return page(request, "applications/delete.html", {"app": app}, title=f"Delete {app.name}")


@router.post("/console/apps/{app_id}/delete")
async def delete_app(request: Request, app_id: str) -> Response:
    await service.delete_app(context(request), app_id)
    return see_other("/console/apps", notice_code=DELETED)
