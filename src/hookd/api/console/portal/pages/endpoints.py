"""The consumer's endpoints: list with health, add, edit, enable/disable, delete, the secret
(view, rotate), an example event, recovering failed messages, the transformation.

Always the session's application: an endpoint id of another application is the services' 404,
as a missing one. Each control shows only with its capability (``rules``), which the route
class checks again on the server.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from hookd.api.console.forms import Form, field_errors, read_form
from hookd.api.console.pages.endpoints import (
    CREATED,
    DELETED,
    EXAMPLE_SENT,
    RECOVERED,
    ROTATED,
    SAVED,
    enable_posted,
    posted_event_type,
    recover_posted,
)
from hookd.api.console.portal.render import portal_page
from hookd.api.console.portal.routing import portal_router
from hookd.api.console.portal.sessions import visitor
from hookd.api.console.render import notice, page_links, see_other
from hookd.api.console.sessions import context
from hookd.api.send.models import RATE_LIMIT_MAX
from hookd.core.domain import Endpoint, EventType, ListQuery
from hookd.core.masking import mask_url
from hookd.services import event_types as event_type_service
from hookd.services.endpoints import crud as service
from hookd.services.endpoints.example import send_example
from hookd.services.endpoints.overview import endpoints_with_health
from hookd.services.endpoints.transformation import patch_transformation
from hookd.services.errors import Invalid, ServiceError

router = portal_router()
PAGE_SIZE = 50
CATALOG_SHOWN = 250
TRANSFORMATION_SAVED = notice("transformation-saved", "Transformation saved.")


def base(endpoint_id: str | None = None) -> str:
    return "/portal/endpoints" if endpoint_id is None else f"/portal/endpoints/{endpoint_id}"


async def visible_types(request: Request) -> list[EventType]:
    """The event types the session may see (its feature flags)."""
    found = await event_type_service.list_event_types(
        context(request),
        ListQuery(CATALOG_SHOWN, None, "ascending"),
        include_archived=False,
        feature_flags=visitor(request).principal.feature_flags,
    )
    return found.items


def endpoint_fields(form: Form) -> dict[str, Any]:
    """What a consumer sets of an endpoint (the services check it as for the API)."""
    url = form.text("url")
    if not url:
        raise Invalid("URL is required", loc=("form", "url"))
    return {
        "url": url,
        "description": form.get("description").strip(),
        "filter_types": list(dict.fromkeys(form.getlist("filter_types"))) or None,
        "channels": form.words("channels"),
        "rate_limit": form.integer(
            "rate_limit", label="Rate limit", minimum=1, maximum=RATE_LIMIT_MAX
        ),
        "disabled": form.checked("disabled"),
    }


def form_values(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "url": mask_url(endpoint.url),
        "description": endpoint.description,
        "filter_types": list(endpoint.filter_types or ()),
        "channels": ", ".join(endpoint.channels or ()),
        "rate_limit": endpoint.rate_limit or "",
        "disabled": endpoint.disabled,
    }


def posted_values(form: Form) -> dict[str, Any]:
    values: dict[str, Any] = {k: form.get(k) for k in ("url", "description", "channels")}
    values["rate_limit"] = form.get("rate_limit")
    values["filter_types"] = form.getlist("filter_types")
    values["disabled"] = form.checked("disabled")
    return values


@router.get("/portal/endpoints")
async def list_endpoints(request: Request) -> Response:
    result = await endpoints_with_health(
        context(request),
        visitor(request).app_id,
        iterator=request.query_params.get("iterator") or None,
        limit=PAGE_SIZE,
    )
    previous, following = page_links(request, result)
    return await portal_page(
        request,
        "portal/endpoints/list.html",
        {"rows": result.items, "previous": previous, "following": following},
        title="Endpoints",
    )


async def _form_page(
    request: Request,
    endpoint: Endpoint | None,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    status_code: int = 200,
) -> Response:
    return await portal_page(
        request,
        "portal/endpoints/form.html",
        {
            "endpoint": endpoint,
            "values": values,
            "errors": errors,
            "types": await visible_types(request),
        },
        status_code=status_code,
        title="Edit endpoint" if endpoint else "New endpoint",
    )


@router.get("/portal/endpoints/new")
async def new_endpoint(request: Request) -> Response:
    return await _form_page(request, None, {"filter_types": []}, {})


@router.post("/portal/endpoints/new")
async def create_endpoint(request: Request) -> Response:
    form = await read_form(request)
    try:
        endpoint = await service.create_endpoint(
            context(request), visitor(request).app_id, endpoint_fields(form)
        )
    except ServiceError as exc:
        if exc.status_code == 404:
            raise
        return await _form_page(
            request, None, posted_values(form), field_errors(exc), status_code=exc.status_code
        )
    return see_other(base(endpoint.id), notice_code=CREATED)


async def _detail(request: Request, endpoint_id: str, *, reveal: bool = False) -> Response:
    ctx = context(request)
    endpoint, health = await service.endpoint_health(ctx, visitor(request).app_id, endpoint_id)
    return await portal_page(
        request,
        "portal/endpoints/detail.html",
        {
            "endpoint": endpoint,
            "url": mask_url(endpoint.url),
            "state": health.health.state(disabled=endpoint.disabled),
            "health": health,
            "types": await visible_types(request),
            "secret": endpoint.secret if reveal else None,
        },
        title=f"Endpoint {endpoint.description or endpoint.id}",
    )


@router.get("/portal/endpoints/{endpoint_id}")
async def show_endpoint(request: Request, endpoint_id: str) -> Response:
    return await _detail(request, endpoint_id)


@router.get("/portal/endpoints/{endpoint_id}/secret")
async def reveal_secret(request: Request, endpoint_id: str) -> Response:
    """The endpoint's page with its signing secret shown (ViewEndpointSecret)."""
    return await _detail(request, endpoint_id, reveal=True)


@router.post("/portal/endpoints/{endpoint_id}/secret/rotate")
async def rotate_secret(request: Request, endpoint_id: str) -> Response:
    endpoint = await service.rotate_secret(
        context(request),
        visitor(request).app_id,
        endpoint_id,
        key=None,
        grace_period_seconds=None,
    )
    return see_other(base(endpoint.id), notice_code=ROTATED)


@router.get("/portal/endpoints/{endpoint_id}/edit")
async def edit_endpoint(request: Request, endpoint_id: str) -> Response:
    endpoint = await service.get_endpoint(context(request), visitor(request).app_id, endpoint_id)
    return await _form_page(request, endpoint, form_values(endpoint), {})


@router.post("/portal/endpoints/{endpoint_id}/edit")
async def save_endpoint(request: Request, endpoint_id: str) -> Response:
    form = await read_form(request)
    app_id = visitor(request).app_id
    endpoint = await service.get_endpoint(context(request), app_id, endpoint_id)
    try:
        await service.update_endpoint(
            context(request), app_id, endpoint.id, endpoint_fields(form), replace=False
        )
    except ServiceError as exc:
        if exc.status_code == 404:
            raise
        return await _form_page(
            request, endpoint, posted_values(form), field_errors(exc), status_code=exc.status_code
        )
    return see_other(base(endpoint.id), notice_code=SAVED)


@router.post("/portal/endpoints/{endpoint_id}/enabled")
async def set_enabled(request: Request, endpoint_id: str) -> Response:
    endpoint, notice_code = await enable_posted(request, visitor(request).app_id, endpoint_id)
    return see_other(base(endpoint.id), notice_code=notice_code)


@router.post("/portal/endpoints/{endpoint_id}/recover")
async def recover(request: Request, endpoint_id: str) -> Response:
    count = await recover_posted(request, visitor(request).app_id, endpoint_id)
    return see_other(base(endpoint_id), notice_code=RECOVERED, count=count)


@router.post("/portal/endpoints/{endpoint_id}/send-example")
async def example(request: Request, endpoint_id: str) -> Response:
    event_type = await posted_event_type(request)
    # Only an event type the session may see (its feature flags): else the same 404.
    await event_type_service.get_event_type(
        context(request), event_type, feature_flags=visitor(request).principal.feature_flags
    )
    message = await send_example(context(request), visitor(request).app_id, endpoint_id, event_type)
    return see_other(f"/portal/messages/{message.id}", notice_code=EXAMPLE_SENT)


async def _transformation_page(
    request: Request,
    endpoint: Endpoint,
    code: str,
    enabled: bool,
    error: str | None,
    *,
    status_code: int = 200,
) -> Response:
    return await portal_page(
        request,
        "portal/endpoints/transformation.html",
        {"endpoint": endpoint, "code": code, "enabled": enabled, "error": error},
        status_code=status_code,
        title="Transformation",
    )


@router.get("/portal/endpoints/{endpoint_id}/transformation")
async def transformation(request: Request, endpoint_id: str) -> Response:
    endpoint = await service.get_endpoint(context(request), visitor(request).app_id, endpoint_id)
    current = endpoint.transformation
    return await _transformation_page(
        request,
        endpoint,
        current.code if current else "",
        current.enabled if current else False,
        None,
    )


@router.post("/portal/endpoints/{endpoint_id}/transformation")
async def save_transformation(request: Request, endpoint_id: str) -> Response:
    """The code (empty: no transformation) and whether it runs, checked by the services."""
    form = await read_form(request)
    app_id = visitor(request).app_id
    endpoint = await service.get_endpoint(context(request), app_id, endpoint_id)
    code = form.get("code")
    try:
        await patch_transformation(
            context(request),
            app_id,
            endpoint.id,
            {"code": code or None, "enabled": form.checked("enabled") if code else None},
        )
    except ServiceError as exc:
        if exc.status_code == 404:
            raise
        return await _transformation_page(
            request,
            endpoint,
            code,
            form.checked("enabled"),
            exc.detail,
            status_code=exc.status_code,
        )
    return see_other(base(endpoint.id), notice_code=TRANSFORMATION_SAVED)


@router.get("/portal/endpoints/{endpoint_id}/delete")
async def confirm_delete(request: Request, endpoint_id: str) -> Response:
    endpoint = await service.get_endpoint(context(request), visitor(request).app_id, endpoint_id)
    return await portal_page(
        request,
        "portal/endpoints/delete.html",
        {"endpoint": endpoint, "url": mask_url(endpoint.url)},
        title="Delete endpoint",
    )


@router.post("/portal/endpoints/{endpoint_id}/delete")
async def delete_endpoint(request: Request, endpoint_id: str) -> Response:
    await service.delete_endpoint(context(request), visitor(request).app_id, endpoint_id)
    return see_other(base(), notice_code=DELETED)
