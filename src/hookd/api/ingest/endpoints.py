"""/ingest/api/v1/source/{source_id}/endpoint: where a source forwards (Svix's Ingest API).

A source's forwarding endpoints are the endpoints of its application, so these routes call the
same endpoint services as /api/v1/app/{app_id}/endpoint.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from hookd.api.params import CtxDep, ListQueryDep
from hookd.api.send.models import (
    EndpointHeadersIn,
    EndpointHeadersOut,
    EndpointHeadersPatchIn,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointSecretOut,
    EndpointSecretRotateIn,
    EndpointTransformationOut,
    EndpointTransformationPatch,
    ListResponse,
)
from hookd.api.send.serialize import (
    JSON,
    endpoint_out,
    headers_out,
    page_out,
    secret_out,
    transformation_out,
)
from hookd.services.context import Context
from hookd.services.endpoints import crud as service
from hookd.services.endpoints.transformation import patch_transformation
from hookd.services.ingest.sources import get_source

router = APIRouter(prefix="/ingest/api/v1/source/{source_id}/endpoint", tags=["Ingest Endpoint"])


async def _app_id(ctx: Context, source_id: str) -> str:
    """The source's application (same id), found by the source's id or uid."""
    return (await get_source(ctx, source_id)).id


@router.get("", response_model=ListResponse[EndpointOut], summary="List forwarding endpoints")
async def list_endpoints(ctx: CtxDep, source_id: str, query: ListQueryDep) -> Response:
    page = await service.list_endpoints(ctx, await _app_id(ctx, source_id), query)
    return JSON(page_out(page, endpoint_out))


@router.post("", response_model=EndpointOut, status_code=201, summary="Add a forwarding endpoint")
async def create_endpoint(ctx: CtxDep, source_id: str, body: EndpointIn) -> Response:
    endpoint = await service.create_endpoint(ctx, await _app_id(ctx, source_id), body.fields_set())
    return JSON(endpoint_out(endpoint), status_code=201)


@router.get("/{endpoint_id}", response_model=EndpointOut, summary="Get a forwarding endpoint")
async def get_endpoint(ctx: CtxDep, source_id: str, endpoint_id: str) -> Response:
    app_id = await _app_id(ctx, source_id)
    return JSON(endpoint_out(await service.get_endpoint(ctx, app_id, endpoint_id)))


@router.put(
    "/{endpoint_id}",
    response_model=EndpointOut,
    responses={201: {"model": EndpointOut, "description": "created"}},
    summary="Create or update an endpoint",
)
async def upsert_endpoint(
    ctx: CtxDep, source_id: str, endpoint_id: str, body: EndpointIn
) -> Response:
    endpoint, created = await service.update_endpoint(
        ctx, await _app_id(ctx, source_id), endpoint_id, body.fields_set(), replace=True
    )
    return JSON(endpoint_out(endpoint), status_code=201 if created else 200)


@router.patch("/{endpoint_id}", response_model=EndpointOut, summary="Patch an endpoint")
async def patch_endpoint(
    ctx: CtxDep, source_id: str, endpoint_id: str, body: EndpointPatch
) -> Response:
    endpoint, _ = await service.update_endpoint(
        ctx, await _app_id(ctx, source_id), endpoint_id, body.fields_set(), replace=False
    )
    return JSON(endpoint_out(endpoint))


@router.delete("/{endpoint_id}", status_code=204, summary="Delete a forwarding endpoint")
async def delete_endpoint(ctx: CtxDep, source_id: str, endpoint_id: str) -> Response:
    await service.delete_endpoint(ctx, await _app_id(ctx, source_id), endpoint_id)
    return Response(status_code=204)


@router.get(
    "/{endpoint_id}/secret",
    response_model=EndpointSecretOut,
    summary="Get the signing secret (and the URL's credentials)",
)
async def get_secret(ctx: CtxDep, source_id: str, endpoint_id: str) -> Response:
    endpoint = await service.get_endpoint(ctx, await _app_id(ctx, source_id), endpoint_id)
    return JSON(secret_out(endpoint.secret, endpoint.url))


@router.post(
    "/{endpoint_id}/secret/rotate",
    response_model=EndpointSecretOut,
    summary="Rotate the signing secret; the old one co-signs for the grace period",
)
async def rotate_secret(
    ctx: CtxDep, source_id: str, endpoint_id: str, body: EndpointSecretRotateIn
) -> Response:
    endpoint = await service.rotate_secret(
        ctx,
        await _app_id(ctx, source_id),
        endpoint_id,
        key=body.key,
        grace_period_seconds=body.grace_period_seconds,
    )
    return JSON(secret_out(endpoint.secret))


@router.get(
    "/{endpoint_id}/headers", response_model=EndpointHeadersOut, summary="Get custom headers"
)
async def get_headers(ctx: CtxDep, source_id: str, endpoint_id: str) -> Response:
    endpoint = await service.get_endpoint(ctx, await _app_id(ctx, source_id), endpoint_id)
    return JSON(headers_out(endpoint.headers))


@router.put("/{endpoint_id}/headers", status_code=204, summary="Replace custom headers")
async def set_headers(
    ctx: CtxDep, source_id: str, endpoint_id: str, body: EndpointHeadersIn
) -> Response:
    app_id = await _app_id(ctx, source_id)
    await service.set_headers(ctx, app_id, endpoint_id, body.headers, replace=True)
    return Response(status_code=204)


@router.patch("/{endpoint_id}/headers", status_code=204, summary="Merge custom headers")
async def patch_headers(
    ctx: CtxDep, source_id: str, endpoint_id: str, body: EndpointHeadersPatchIn
) -> Response:
    app_id = await _app_id(ctx, source_id)
    await service.set_headers(
        ctx, app_id, endpoint_id, body.headers, replace=False, delete=body.delete_headers
    )
    return Response(status_code=204)


@router.get(
    "/{endpoint_id}/transformation",
    response_model=EndpointTransformationOut,
    summary="Get the JavaScript transformation",
)
async def get_transformation(ctx: CtxDep, source_id: str, endpoint_id: str) -> Response:
    endpoint = await service.get_endpoint(ctx, await _app_id(ctx, source_id), endpoint_id)
    return JSON(transformation_out(endpoint))


@router.patch(
    "/{endpoint_id}/transformation",
    status_code=204,
    summary="Set, enable, disable or remove the JavaScript transformation",
)
async def set_transformation(
    ctx: CtxDep, source_id: str, endpoint_id: str, body: EndpointTransformationPatch
) -> Response:
    await patch_transformation(ctx, await _app_id(ctx, source_id), endpoint_id, body.fields_set())
    return Response(status_code=204)
