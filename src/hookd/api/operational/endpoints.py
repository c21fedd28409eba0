"""/api/v1/operational-webhook/endpoint: where hookd sends its operational webhooks.

Svix's operational webhook endpoint API. The endpoints are those of hookd's hidden operational
application (services.operational), so these routes call the ordinary endpoint services.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from hookd.api.operational.models import (
    OperationalEndpointIn,
    OperationalEndpointOut,
    OperationalEndpointUpsertIn,
)
from hookd.api.params import CtxDep, ListQueryDep
from hookd.api.send.models import (
    EndpointHeadersIn,
    EndpointHeadersOut,
    EndpointSecretOut,
    EndpointSecretRotateIn,
    ListResponse,
)
from hookd.api.send.serialize import JSON, headers_out, page_out, secret_out
from hookd.core.domain import Endpoint, Page
from hookd.core.masking import mask_url
from hookd.services.endpoints import crud as service
from hookd.services.operational import OPERATIONAL_APP_ID, ensure_app


async def _operational_app(ctx: CtxDep) -> None:
    await ensure_app(ctx)


# Every route needs the hidden application (made on first use); the app's authentication runs
# before this dependency.
router = APIRouter(
    prefix="/api/v1/operational-webhook/endpoint",
    tags=["Operational Webhook"],
    dependencies=[Depends(_operational_app)],
)
APP = OPERATIONAL_APP_ID


def endpoint_out(ep: Endpoint) -> dict[str, Any]:
    return {
        "id": ep.id,
        "uid": ep.uid,
        "url": mask_url(ep.url),
        "description": ep.description,
        "disabled": ep.disabled,
        "eventTypes": None if ep.filter_types is None else list(ep.filter_types),
        "throttleRate": ep.rate_limit,
        "metadata": ep.metadata,
        "createdAt": ep.created_at,
        "updatedAt": ep.updated_at,
    }


@router.get(
    "",
    response_model=ListResponse[OperationalEndpointOut],
    summary="List operational webhook endpoints",
)
async def list_endpoints(ctx: CtxDep, query: ListQueryDep) -> Response:
    page: Page[Endpoint] = await service.list_endpoints(ctx, APP, query)
    return JSON(page_out(page, endpoint_out))


@router.post(
    "",
    response_model=OperationalEndpointOut,
    status_code=201,
    summary="Create an operational webhook endpoint",
)
async def create_endpoint(ctx: CtxDep, body: OperationalEndpointIn) -> Response:
    endpoint = await service.create_endpoint(ctx, APP, body.fields_set())
    return JSON(endpoint_out(endpoint), status_code=201)


@router.get(
    "/{endpoint_id}",
    response_model=OperationalEndpointOut,
    summary="Get an operational webhook endpoint",
)
async def get_endpoint(ctx: CtxDep, endpoint_id: str) -> Response:
    return JSON(endpoint_out(await service.get_endpoint(ctx, APP, endpoint_id)))


@router.put(
    "/{endpoint_id}",
    response_model=OperationalEndpointOut,
    responses={201: {"model": OperationalEndpointOut, "description": "created"}},
    summary="Create or update an operational webhook endpoint",
)
async def upsert_endpoint(
    ctx: CtxDep, endpoint_id: str, body: OperationalEndpointUpsertIn
) -> Response:
    endpoint, created = await service.update_endpoint(
        ctx, APP, endpoint_id, body.fields_set(), replace=True
    )
    return JSON(endpoint_out(endpoint), status_code=201 if created else 200)


@router.delete("/{endpoint_id}", status_code=204, summary="Delete an operational webhook endpoint")
async def delete_endpoint(ctx: CtxDep, endpoint_id: str) -> Response:
    await service.delete_endpoint(ctx, APP, endpoint_id)
    return Response(status_code=204)


@router.get(
    "/{endpoint_id}/secret",
    response_model=EndpointSecretOut,
    summary="Get the signing secret (and the URL's credentials)",
)
async def get_secret(ctx: CtxDep, endpoint_id: str) -> Response:
    endpoint = await service.get_endpoint(ctx, APP, endpoint_id)
    return JSON(secret_out(endpoint.secret, endpoint.url))


@router.post(
    "/{endpoint_id}/secret/rotate",
    status_code=204,
    summary="Rotate the signing secret; the old one co-signs for the grace period",
)
async def rotate_secret(ctx: CtxDep, endpoint_id: str, body: EndpointSecretRotateIn) -> Response:
    await service.rotate_secret(
        ctx, APP, endpoint_id, key=body.key, grace_period_seconds=body.grace_period_seconds
    )
    return Response(status_code=204)


@router.get(
    "/{endpoint_id}/headers", response_model=EndpointHeadersOut, summary="Get custom headers"
)
async def get_headers(ctx: CtxDep, endpoint_id: str) -> Response:
    endpoint = await service.get_endpoint(ctx, APP, endpoint_id)
    return JSON(headers_out(endpoint.headers))


@router.put("/{endpoint_id}/headers", status_code=204, summary="Replace custom headers")
async def set_headers(ctx: CtxDep, endpoint_id: str, body: EndpointHeadersIn) -> Response:
    await service.set_headers(ctx, APP, endpoint_id, body.headers, replace=True)
    return Response(status_code=204)
