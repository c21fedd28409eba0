"""An application's endpoints: list with health, create, edit, enable/disable, delete, reveal
and rotate the secret, custom headers, recover failed messages, send an example event."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from hookd.api.console.charts import sparkline
from hookd.api.console.forms import Form, field_errors, read_form
from hookd.api.console.render import notice, page, page_links, see_other
from hookd.api.console.routing import console_router
from hookd.api.console.sessions import context
from hookd.api.send.models import INT32_MAX, RATE_LIMIT_MAX
from hookd.core.domain import Endpoint, EventType, ListQuery
from hookd.core.masking import mask_url
from hookd.services import applications as app_service
from hookd.services import event_types as event_type_service
from hookd.services import statistics
from hookd.services.endpoints import crud as service
from hookd.services.endpoints.crud import SENSITIVE_HEADERS
from hookd.services.endpoints.example import send_example
from hookd.services.endpoints.overview import endpoints_with_health
from hookd.services.errors import Invalid, ServiceError

router = console_router()
PAGE_SIZE = 50
CATALOG_SHOWN = 250  # event types offered as filter checkboxes
CREATED = notice("endpoint-created", "Endpoint created.")
SAVED = notice("endpoint-saved", "Endpoint saved.")
DELETED = notice("endpoint-deleted", "Endpoint deleted.")
ENABLED = notice("endpoint-enabled", "Endpoint enabled.")
DISABLED = notice("endpoint-disabled", "Endpoint disabled: nothing is sent to it.")
ROTATED = notice(
    "secret-rotated", "Secret rotated. The previous one keeps co-signing for 24 hours."
)
HEADERS_SAVED = notice("headers-saved", "Headers saved.")
RECOVERED = notice("recovered", "{count} failed messages queued again.")
EXAMPLE_SENT = notice("example-sent", "Example event sent to the endpoint.")


def base(app_id: str, endpoint_id: str | None = None) -> str:
    url = f"/console/apps/{app_id}/endpoints"
    return url if endpoint_id is None else f"{url}/{endpoint_id}"


def parse_headers(text: str) -> dict[str, str]:
    """``Name: value`` lines (blank lines ignored)."""
    headers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise Invalid(f"header line {number} is not 'Name: value'", loc=("form", "headers"))
        headers[name.strip()] = value.strip()
    return headers


def endpoint_fields(form: Form) -> dict[str, Any]:
    """The endpoint settings of the form (the services check them as for the API)."""
    url = form.text("url")
    if not url:
        raise Invalid("URL is required", loc=("form", "url"))
    types = list(dict.fromkeys(form.getlist("filter_types") + (form.words("other_types") or [])))
    return {
        "url": url,
        "description": form.get("description").strip(),
        "filter_types": types or None,
        "channels": form.words("channels"),
        "rate_limit": form.integer(
            "rate_limit", label="Rate limit", minimum=1, maximum=RATE_LIMIT_MAX
        ),
        "disabled": form.checked("disabled"),
        "version": form.integer("version", label="Version", minimum=1, maximum=INT32_MAX),
        "thin": form.checked("thin"),
        "fifo": form.checked("fifo"),
        "batch_size": form.integer("batch_size", label="Batch size", minimum=1, maximum=1000),
        "batch_max_wait_ms": form.integer(
            "batch_max_wait_ms", label="Batch wait", minimum=0, maximum=60_000
        ),
    }


def form_values(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "url": mask_url(endpoint.url),
        "description": endpoint.description,
        "filter_types": list(endpoint.filter_types or ()),
        "channels": ", ".join(endpoint.channels or ()),
        "rate_limit": endpoint.rate_limit or "",
        "disabled": endpoint.disabled,
        "version": endpoint.version or "",
        "thin": endpoint.thin,
        "fifo": endpoint.fifo,
        "batch_size": endpoint.batch_size or "",
        "batch_max_wait_ms": ""
        if endpoint.batch_max_wait_ms is None
        else endpoint.batch_max_wait_ms,
    }


def posted_values(form: Form) -> dict[str, Any]:
    """What the visitor sent, to show the form again with an error."""
    keys = ("url", "description", "channels", "rate_limit", "version", "batch_size")
    values: dict[str, Any] = {key: form.get(key) for key in keys}
    values["batch_max_wait_ms"] = form.get("batch_max_wait_ms")
    values["filter_types"] = form.getlist("filter_types") + (form.words("other_types") or [])
    values["headers"] = form.get("headers")
    for key in ("disabled", "thin", "fifo"):
        values[key] = form.checked(key)
    return values


def shown_headers(headers: dict[str, str]) -> list[tuple[str, str, bool]]:
    """(name, value, sensitive): a sensitive header's value is not shown."""
    return [
        (
            name,
            "" if name.lower() in SENSITIVE_HEADERS else value,
            name.lower() in SENSITIVE_HEADERS,
        )
        for name, value in sorted(headers.items(), key=lambda item: item[0].lower())
    ]


async def catalog(request: Request) -> list[EventType]:
    found = await event_type_service.list_event_types(
        context(request),
        ListQuery(CATALOG_SHOWN, None, "ascending"),
        include_archived=False,
    )
    return found.items


@router.get("/console/apps/{app_id}/endpoints")
async def list_endpoints(request: Request, app_id: str) -> Response:
    ctx = context(request)
    app = await app_service.get_app(ctx, app_id)
    result = await endpoints_with_health(
        ctx, app.id, iterator=request.query_params.get("iterator") or None, limit=PAGE_SIZE
    )
    previous, following = page_links(request, result)
    rates = await statistics.success_sparklines(ctx, [ep.id for ep, _ in result.items])
    sparks = {
        ep_id: sparkline(line, what="success rate per hour over the last 24 hours")
        for ep_id, line in rates.items()
    }
    return page(
        request,
        "endpoints/list.html",
        {
            "app": app,
            "rows": result.items,
            "sparks": sparks,
            "previous": previous,
            "following": following,
        },
        title=f"{app.name} · endpoints",
    )


async def _form_page(
    request: Request,
    app_id: str,
    endpoint: Endpoint | None,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    status_code: int = 200,
) -> Response:
    app = await app_service.get_app(context(request), app_id)
    types = await catalog(request)
    known = {t.name for t in types}
    return page(
        request,
        "endpoints/form.html",
        {
            "app": app,
            "endpoint": endpoint,
            "values": values,
            "errors": errors,
            "types": types,
            "other_types": ", ".join(t for t in values.get("filter_types", ()) if t not in known),
        },
        status_code=status_code,
        title="Endpoint",
    )


@router.get("/console/apps/{app_id}/endpoints/new")
async def new_endpoint(request: Request, app_id: str) -> Response:
    return await _form_page(request, app_id, None, {"filter_types": []}, {})


@router.post("/console/apps/{app_id}/endpoints/new")
async def create_endpoint(request: Request, app_id: str) -> Response:
    form = await read_form(request)
    try:
        fields = endpoint_fields(form)
        fields["headers"] = parse_headers(form.get("headers"))
        endpoint = await service.create_endpoint(context(request), app_id, fields)
    except ServiceError as exc:
        if exc.status_code == 404:
            raise
        return await _form_page(
            request,
            app_id,
            None,
            posted_values(form),
            field_errors(exc),
            status_code=exc.status_code,
        )
    return see_other(base(endpoint.app_id, endpoint.id), notice_code=CREATED)


async def _detail(
    request: Request, app_id: str, endpoint_id: str, *, reveal: bool = False
) -> Response:
    ctx = context(request)
    app = await app_service.get_app(ctx, app_id)
    endpoint, health = await service.endpoint_health(ctx, app.id, endpoint_id)
    return page(
        request,
        "endpoints/detail.html",
        {
            "app": app,
            "endpoint": endpoint,
            "url": mask_url(endpoint.url),
            "state": health.health.state(disabled=endpoint.disabled),
            "health": health,
            "headers": shown_headers(endpoint.headers),
            "types": await catalog(request),
            "secret": endpoint.secret if reveal else None,
        },
        title=f"Endpoint {endpoint.description or endpoint.id}",
    )


@router.get("/console/apps/{app_id}/endpoints/{endpoint_id}")
async def show_endpoint(request: Request, app_id: str, endpoint_id: str) -> Response:
    return await _detail(request, app_id, endpoint_id)


@router.get("/console/apps/{app_id}/endpoints/{endpoint_id}/secret")
async def reveal_secret(request: Request, app_id: str, endpoint_id: str) -> Response:
    """The signing secret: a fragment for htmx, else the endpoint's page showing it."""
    if request.headers.get("hx-target") != "secret":
        return await _detail(request, app_id, endpoint_id, reveal=True)
    endpoint = await service.get_endpoint(context(request), app_id, endpoint_id)
    return page(request, "endpoints/secret.html", {"endpoint": endpoint, "secret": endpoint.secret})


@router.post("/console/apps/{app_id}/endpoints/{endpoint_id}/secret/rotate")
async def rotate_secret(request: Request, app_id: str, endpoint_id: str) -> Response:
    endpoint = await service.rotate_secret(
        context(request), app_id, endpoint_id, key=None, grace_period_seconds=None
    )
    return see_other(base(endpoint.app_id, endpoint.id), notice_code=ROTATED)


@router.get("/console/apps/{app_id}/endpoints/{endpoint_id}/edit")
async def edit_endpoint(request: Request, app_id: str, endpoint_id: str) -> Response:
    endpoint = await service.get_endpoint(context(request), app_id, endpoint_id)
    return await _form_page(request, app_id, endpoint, form_values(endpoint), {})


@router.post("/console/apps/{app_id}/endpoints/{endpoint_id}/edit")
async def save_endpoint(request: Request, app_id: str, endpoint_id: str) -> Response:
    form = await read_form(request)
    endpoint = await service.get_endpoint(context(request), app_id, endpoint_id)
    try:
        await service.update_endpoint(
            context(request), app_id, endpoint.id, endpoint_fields(form), replace=False
        )
    except ServiceError as exc:
        if exc.status_code == 404:
            raise
        return await _form_page(
            request,
            app_id,
            endpoint,
            posted_values(form),
            field_errors(exc),
            status_code=exc.status_code,
        )
    return see_other(base(endpoint.app_id, endpoint.id), notice_code=SAVED)


@router.post("/console/apps/{app_id}/endpoints/{endpoint_id}/enabled")
async def set_enabled(request: Request, app_id: str, endpoint_id: str) -> Response:
    """``enabled=1`` enables the endpoint, ``enabled=0`` disables it."""
    enable = (await read_form(request)).get("enabled") == "1"
    endpoint, _ = await service.update_endpoint(
        context(request), app_id, endpoint_id, {"disabled": not enable}, replace=False
    )
    return see_other(
        base(endpoint.app_id, endpoint.id), notice_code=ENABLED if enable else DISABLED
    )


@router.post("/console/apps/{app_id}/endpoints/{endpoint_id}/headers")
async def save_headers(request: Request, app_id: str, endpoint_id: str) -> Response:
    """Remove the checked headers and add (or replace) the one typed in."""
    form = await read_form(request)
    name = form.text("add_name")
    added = {name: form.text("add_value")} if name else {}
    endpoint = await service.set_headers(
        context(request),
        app_id,
        endpoint_id,
        added,
        replace=False,
        delete=[n for n in form.getlist("remove") if n.lower() not in {a.lower() for a in added}],
    )
    return see_other(base(endpoint.app_id, endpoint.id), notice_code=HEADERS_SAVED)


@router.post("/console/apps/{app_id}/endpoints/{endpoint_id}/recover")
async def recover(request: Request, app_id: str, endpoint_id: str) -> Response:
    form = await read_form(request)
    since = form.time("since", label="Since")
    if since is None:
        raise Invalid("Choose the time to recover failed messages from", loc=("form", "since"))
    task = await service.recover(context(request), app_id, endpoint_id, since=since, until=None)
    return see_other(
        base(app_id, endpoint_id),
        notice_code=RECOVERED,
        count=int(task.data.get("messagesSent", 0)),
    )


@router.post("/console/apps/{app_id}/endpoints/{endpoint_id}/send-example")
async def example(request: Request, app_id: str, endpoint_id: str) -> Response:
    form = await read_form(request)
    event_type = form.text("event_type")
    if not event_type:
        raise Invalid("Choose an event type", loc=("form", "event_type"))
    message = await send_example(context(request), app_id, endpoint_id, event_type)
    return see_other(
        f"/console/apps/{message.app_id}/messages/{message.id}", notice_code=EXAMPLE_SENT
    )


@router.get("/console/apps/{app_id}/endpoints/{endpoint_id}/delete")
async def confirm_delete(request: Request, app_id: str, endpoint_id: str) -> Response:
    ctx = context(request)
    app = await app_service.get_app(ctx, app_id)
    endpoint = await service.get_endpoint(ctx, app.id, endpoint_id)
    return page(
        request,
        "endpoints/delete.html",
        {"app": app, "endpoint": endpoint, "url": mask_url(endpoint.url)},
        title="Delete endpoint",
    )


@router.post("/console/apps/{app_id}/endpoints/{endpoint_id}/delete")
async def delete_endpoint(request: Request, app_id: str, endpoint_id: str) -> Response:
    app = await app_service.get_app(context(request), app_id)
    await service.delete_endpoint(context(request), app.id, endpoint_id)
    return see_other(base(app.id), notice_code=DELETED)
