"""/ingest/api/v1/source: inbound sources (Svix's Ingest API)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from hookd.api.ingest.models import (
    IngestSourceIn,
    IngestSourceOut,
    IngestSourceSecretOut,
    RotateTokenOut,
)
from hookd.api.ingest.serialize import source_out
from hookd.api.params import CtxDep, ListQueryDep
from hookd.api.send.models import ListResponse
from hookd.api.send.serialize import JSON, page_out
from hookd.core.masking import config_secrets
from hookd.services.ingest import sources as service

router = APIRouter(prefix="/ingest/api/v1/source", tags=["Ingest Source"])


@router.get("", response_model=ListResponse[IngestSourceOut], summary="List sources")
async def list_sources(ctx: CtxDep, query: ListQueryDep) -> Response:
    page = await service.list_sources(ctx, query, svix_types_only=True)
    return JSON(page_out(page, lambda source: source_out(ctx, source)))


@router.post("", response_model=IngestSourceOut, status_code=201, summary="Create a source")
async def create_source(ctx: CtxDep, body: IngestSourceIn) -> Response:
    fields = body.fields_set()
    service.check_not_relay(fields)
    source = await service.create_source(ctx, fields)
    return JSON(source_out(ctx, source), status_code=201)


@router.get("/{source_id}", response_model=IngestSourceOut, summary="Get a source by id or uid")
async def get_source(ctx: CtxDep, source_id: str) -> Response:
    return JSON(source_out(ctx, await service.get_source(ctx, source_id)))


@router.get(
    "/{source_id}/secret",
    response_model=IngestSourceSecretOut,
    summary="The secrets of the source's config, in clear",
)
async def get_source_secret(ctx: CtxDep, source_id: str) -> Response:
    source = await service.get_source(ctx, source_id)
    return JSON(config_secrets(source.config))


@router.put(
    "/{source_id}",
    response_model=IngestSourceOut,
    responses={201: {"model": IngestSourceOut, "description": "created"}},
    summary="Create or update a source",
)
async def upsert_source(ctx: CtxDep, source_id: str, body: IngestSourceIn) -> Response:
    fields = body.fields_set()
    service.check_not_relay(fields)
    source, created = await service.upsert_source(ctx, source_id, fields)
    return JSON(source_out(ctx, source), status_code=201 if created else 200)


@router.delete("/{source_id}", status_code=204, summary="Delete a source and all it received")
async def delete_source(ctx: CtxDep, source_id: str) -> Response:
    await service.delete_source(ctx, source_id)
    return Response(status_code=204)


@router.post(
    "/{source_id}/token/rotate",
    response_model=RotateTokenOut,
    summary="New ingest URL; the old token stops working at once",
)
async def rotate_token(ctx: CtxDep, source_id: str) -> Response:
    source = await service.rotate_token(ctx, source_id)
    return JSON({"ingestUrl": service.ingest_url(ctx, source)})
