"""The event catalog: event types with their schemas per version and example payloads;
create, archive and unarchive."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from starlette.responses import Response

from hookd.api.console.forms import Form, field_errors, read_form
from hookd.api.console.render import NavItem, notice, page, page_links, see_other
from hookd.api.console.routing import console_router
from hookd.api.console.sessions import context
from hookd.core.domain import ListQuery
from hookd.services import event_types as service
from hookd.services.errors import Invalid, ServiceError

router = console_router()
NAV = NavItem("Event catalog", "/console/event-types")
PAGE_SIZE = 100
CREATED = notice("event-type-created", "Event type created.")
ARCHIVED = notice("event-type-archived", "Event type archived.")
UNARCHIVED = notice("event-type-unarchived", "Event type brought back.")


def _examples(schemas: dict[str, Any] | None) -> list[tuple[str, Any, list[Any]]]:
    """(version, schema, examples) per version, newest first."""
    found = []
    for version, schema in (schemas or {}).items():
        examples = schema.get("examples") if isinstance(schema, dict) else None
        found.append((version, schema, list(examples) if isinstance(examples, list) else []))
    return sorted(found, key=lambda item: int(item[0]) if item[0].isdigit() else 0, reverse=True)


def _fields(form: Form) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": form.text("name"),
        "description": form.get("description").strip(),
    }
    if not fields["name"]:
        raise Invalid("Name is required", loc=("form", "name"))
    schema = form.text("schema")
    if schema:
        try:
            parsed = json.loads(schema)
        except ValueError as exc:
            raise Invalid(f"The schema is not JSON: {exc}", loc=("form", "schema")) from None
        if not isinstance(parsed, dict):
            raise Invalid("The schema must be a JSON object", loc=("form", "schema"))
        fields["schemas"] = {"1": parsed}
    return fields


@router.get("/console/event-types")
async def list_event_types(request: Request) -> Response:
    archived = request.query_params.get("archived") == "1"
    result = await service.list_event_types(
        context(request),
        ListQuery(PAGE_SIZE, request.query_params.get("iterator") or None, "ascending"),
        include_archived=archived,
    )
    previous, following = page_links(request, result)
    return page(
        request,
        "event_types/list.html",
        {
            "types": result.items,
            "archived": archived,
            "previous": previous,
            "following": following,
        },
        title="Event catalog",
    )


@router.get("/console/event-types/new")
async def new_event_type(request: Request) -> Response:
    return page(
        request, "event_types/form.html", {"values": {}, "errors": {}}, title="New event type"
    )


@router.post("/console/event-types/new")
async def create_event_type(request: Request) -> Response:
    form = await read_form(request)
    try:
        created = await service.create_event_type(context(request), _fields(form))
    except ServiceError as exc:
        return page(
            request,
            "event_types/form.html",
            {"values": form, "errors": field_errors(exc)},
            status_code=exc.status_code,
            title="New event type",
        )
    return see_other(f"/console/event-types/{created.name}", notice_code=CREATED)


@router.get("/console/event-types/{name}")
async def show_event_type(request: Request, name: str) -> Response:
    event_type = await service.get_event_type(context(request), name)
    return page(
        request,
        "event_types/detail.html",
        {"event_type": event_type, "versions": _examples(event_type.schemas)},
        title=event_type.name,
    )


@router.post("/console/event-types/{name}/archive")
async def archive(request: Request, name: str) -> Response:
    await service.archive_event_type(context(request), name)
    return see_other(f"/console/event-types/{name}", notice_code=ARCHIVED)


@router.post("/console/event-types/{name}/unarchive")
async def unarchive(request: Request, name: str) -> Response:
    await service.update_event_type(context(request), name, {"archived": False}, replace=False)
    return see_other(f"/console/event-types/{name}", notice_code=UNARCHIVED)
