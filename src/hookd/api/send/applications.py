"""/api/v1/app"""

from __future__ import annotations

from fastapi import APIRouter, Response

from hookd.api.params import CtxDep, ListQueryDep
from hookd.api.send.models import ApplicationIn, ApplicationOut, ApplicationPatch, ListResponse
from hookd.api.send.serialize import JSON, app_out, page_out
from hookd.services import applications as service

router = APIRouter(prefix="/api/v1/app", tags=["Application"])


@router.get("", response_model=ListResponse[ApplicationOut], summary="List applications")
async def list_apps(ctx: CtxDep, query: ListQueryDep) -> Response:
    page = await service.list_apps(ctx, query)
    return JSON(page_out(page, app_out))


@router.post(
    "",
    response_model=ApplicationOut,
    status_code=201,
    responses={200: {"model": ApplicationOut, "description": "get_if_exists: it existed"}},
    summary="Create an application",
)
async def create_app(ctx: CtxDep, body: ApplicationIn, get_if_exists: bool = False) -> Response:
    app, created = await service.create_app(ctx, body.fields_set(), get_if_exists=get_if_exists)
    return JSON(app_out(app), status_code=201 if created else 200)


@router.get("/{app_id}", response_model=ApplicationOut, summary="Get an application")
async def get_app(ctx: CtxDep, app_id: str) -> Response:
    return JSON(app_out(await service.get_app(ctx, app_id)))


@router.put(
    "/{app_id}",
    response_model=ApplicationOut,
    responses={201: {"model": ApplicationOut, "description": "created"}},
    summary="Create or update an application",
)
async def update_app(ctx: CtxDep, app_id: str, body: ApplicationIn) -> Response:
    app, created = await service.update_app(ctx, app_id, body.fields_set(), replace=True)
    return JSON(app_out(app), status_code=201 if created else 200)


@router.patch("/{app_id}", response_model=ApplicationOut, summary="Patch an application")
async def patch_app(ctx: CtxDep, app_id: str, body: ApplicationPatch) -> Response:
    app, _ = await service.update_app(ctx, app_id, body.fields_set(), replace=False)
    return JSON(app_out(app))


@router.delete("/{app_id}", status_code=204, summary="Delete an application")
async def delete_app(ctx: CtxDep, app_id: str) -> Response:
    await service.delete_app(ctx, app_id)
    return Response(status_code=204)
