"""/api/v1/event-type"""

from __future__ import annotations

from fastapi import APIRouter, Response

from hookd.api.auth import PrincipalDep
from hookd.api.params import CtxDep, ListQueryDep
from hookd.api.send.models import (
    EventTypeIn,
    EventTypeOut,
    EventTypePatch,
    EventTypeUpdate,
    ListResponse,
)
from hookd.api.send.serialize import JSON, event_type_out, page_out
from hookd.services import event_types as service

router = APIRouter(prefix="/api/v1/event-type", tags=["Event Type"])


@router.get("", response_model=ListResponse[EventTypeOut], summary="List event types")
async def list_event_types(
    ctx: CtxDep,
    principal: PrincipalDep,
    query: ListQueryDep,
    include_archived: bool = False,
    with_content: bool = True,
) -> Response:
    page = await service.list_event_types(
        ctx,
        query,
        include_archived=include_archived,
        feature_flags=principal.feature_flags,  # an app portal token sees its flags' types
    )
    return JSON(page_out(page, lambda et: event_type_out(et, with_schemas=with_content)))


@router.post("", response_model=EventTypeOut, status_code=201, summary="Create an event type")
async def create_event_type(ctx: CtxDep, body: EventTypeIn) -> Response:
    event_type = await service.create_event_type(ctx, body.fields_set() | {"name": body.name})
    return JSON(event_type_out(event_type), status_code=201)


@router.get("/{name}", response_model=EventTypeOut, summary="Get an event type")
async def get_event_type(ctx: CtxDep, principal: PrincipalDep, name: str) -> Response:
    found = await service.get_event_type(ctx, name, feature_flags=principal.feature_flags)
    return JSON(event_type_out(found))


@router.put(
    "/{name}",
    response_model=EventTypeOut,
    responses={201: {"model": EventTypeOut, "description": "created"}},
    summary="Create or update an event type",
)
async def update_event_type(ctx: CtxDep, name: str, body: EventTypeUpdate) -> Response:
    event_type, created = await service.update_event_type(
        ctx, name, body.fields_set(), replace=True
    )
    return JSON(event_type_out(event_type), status_code=201 if created else 200)


@router.patch("/{name}", response_model=EventTypeOut, summary="Patch an event type")
async def patch_event_type(ctx: CtxDep, name: str, body: EventTypePatch) -> Response:
    event_type, _ = await service.update_event_type(ctx, name, body.fields_set(), replace=False)
    return JSON(event_type_out(event_type))


@router.delete("/{name}", status_code=204, summary="Archive an event type")
async def delete_event_type(ctx: CtxDep, name: str) -> Response:
    await service.archive_event_type(ctx, name)
    return Response(status_code=204)
