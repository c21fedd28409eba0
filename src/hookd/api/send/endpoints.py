"""/api/v1/app/{app_id}/endpoint"""

from __future__ import annotations

from fastapi import APIRouter, Response

from hookd.api.params import CtxDep, PagingDep
from hookd.api.send.models import (
    EndpointHeadersIn,
    EndpointHeadersOut,
    EndpointHeadersPatchIn,
    EndpointHealthOut,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointSecretOut,
    EndpointSecretRotateIn,
    EndpointStatsOut,
    EndpointTransformationOut,
    EndpointTransformationPatch,
    EventExampleIn,
    ListResponse,
    MessageOut,
    RecoverIn,
    RecoverOut,
    Time,
)
from hookd.api.send.serialize import (
    JSON,
    endpoint_out,
    headers_out,
    health_out,
    message_out,
    page_out,
    secret_out,
    stats_out,
    task_out,
    transformation_out,
)
from hookd.services.endpoints import crud as service
from hookd.services.endpoints.example import send_example
from hookd.services.endpoints.transformation import patch_transformation

router = APIRouter(prefix="/api/v1/app/{app_id}/endpoint", tags=["Endpoint"])


@router.get("", response_model=ListResponse[EndpointOut], summary="List endpoints")
async def list_endpoints(ctx: CtxDep, app_id: str, paging: PagingDep) -> Response:
    page = await service.list_endpoints(
        ctx,
        app_id,
        iterator=paging.iterator,
        limit=paging.limit,
        descending=paging.descending(False),
    )
    return JSON(page_out(page, endpoint_out))


@router.post("", response_model=EndpointOut, status_code=201, summary="Create an endpoint")
async def create_endpoint(ctx: CtxDep, app_id: str, body: EndpointIn) -> Response:
    endpoint = await service.create_endpoint(ctx, app_id, body.fields_set())
    return JSON(endpoint_out(endpoint), status_code=201)


@router.get("/{endpoint_id}", response_model=EndpointOut, summary="Get an endpoint")
async def get_endpoint(ctx: CtxDep, app_id: str, endpoint_id: str) -> Response:
    return JSON(endpoint_out(await service.get_endpoint(ctx, app_id, endpoint_id)))


@router.put(
    "/{endpoint_id}",
    response_model=EndpointOut,
    responses={201: {"model": EndpointOut, "description": "created"}},
    summary="Create or update an endpoint",
)
async def update_endpoint(ctx: CtxDep, app_id: str, endpoint_id: str, body: EndpointIn) -> Response:
    endpoint, created = await service.update_endpoint(
        ctx, app_id, endpoint_id, body.fields_set(), replace=True
    )
    return JSON(endpoint_out(endpoint), status_code=201 if created else 200)


@router.patch("/{endpoint_id}", response_model=EndpointOut, summary="Patch an endpoint")
async def patch_endpoint(
    ctx: CtxDep, app_id: str, endpoint_id: str, body: EndpointPatch
) -> Response:
    endpoint, _ = await service.update_endpoint(
        ctx, app_id, endpoint_id, body.fields_set(), replace=False
    )
    return JSON(endpoint_out(endpoint))


@router.delete("/{endpoint_id}", status_code=204, summary="Delete an endpoint")
async def delete_endpoint(ctx: CtxDep, app_id: str, endpoint_id: str) -> Response:
    await service.delete_endpoint(ctx, app_id, endpoint_id)
    return Response(status_code=204)


@router.get(
    "/{endpoint_id}/secret",
    response_model=EndpointSecretOut,
    summary="Get the signing secret (and the URL's credentials)",
)
async def get_secret(ctx: CtxDep, app_id: str, endpoint_id: str) -> Response:
    endpoint = await service.get_endpoint(ctx, app_id, endpoint_id)
    return JSON(secret_out(endpoint.secret, endpoint.url))


@router.post(
    "/{endpoint_id}/secret/rotate",
    response_model=EndpointSecretOut,
    summary="Rotate the signing secret; the old one co-signs for the grace period",
)
async def rotate_secret(
    ctx: CtxDep, app_id: str, endpoint_id: str, body: EndpointSecretRotateIn
) -> Response:
    endpoint = await service.rotate_secret(
        ctx, app_id, endpoint_id, key=body.key, grace_period_seconds=body.grace_period_seconds
    )
    return JSON(secret_out(endpoint.secret))


@router.get(
    "/{endpoint_id}/headers", response_model=EndpointHeadersOut, summary="Get custom headers"
)
async def get_headers(ctx: CtxDep, app_id: str, endpoint_id: str) -> Response:
    endpoint = await service.get_endpoint(ctx, app_id, endpoint_id)
    return JSON(headers_out(endpoint.headers))


@router.put("/{endpoint_id}/headers", status_code=204, summary="Replace custom headers")
async def set_headers(
    ctx: CtxDep, app_id: str, endpoint_id: str, body: EndpointHeadersIn
) -> Response:
    await service.set_headers(ctx, app_id, endpoint_id, body.headers, replace=True)
    return Response(status_code=204)


@router.patch("/{endpoint_id}/headers", status_code=204, summary="Merge custom headers")
async def patch_headers(
    ctx: CtxDep, app_id: str, endpoint_id: str, body: EndpointHeadersPatchIn
) -> Response:
    await service.set_headers(
        ctx, app_id, endpoint_id, body.headers, replace=False, delete=body.delete_headers
    )
    return Response(status_code=204)


@router.post(
    "/{endpoint_id}/recover",
    response_model=RecoverOut,
    status_code=202,
    summary="Resend the failed messages since a time",
)
async def recover(ctx: CtxDep, app_id: str, endpoint_id: str, body: RecoverIn) -> Response:
    task = await service.recover(ctx, app_id, endpoint_id, since=body.since, until=body.until)
    return JSON(task_out(task), status_code=202)


@router.post(
    "/{endpoint_id}/send-example",
    response_model=MessageOut,
    status_code=202,
    summary="Send an example event (from the event type's schema) to this endpoint only",
)
async def send_example_event(
    ctx: CtxDep, app_id: str, endpoint_id: str, body: EventExampleIn
) -> Response:
    message = await send_example(ctx, app_id, endpoint_id, body.event_type, body.example_index)
    return JSON(message_out(message), status_code=202)


@router.get(
    "/{endpoint_id}/stats", response_model=EndpointStatsOut, summary="Delivery counts by status"
)
async def stats(
    ctx: CtxDep,
    app_id: str,
    endpoint_id: str,
    since: Time | None = None,
    until: Time | None = None,
) -> Response:
    result = await service.endpoint_stats(ctx, app_id, endpoint_id, since=since, until=until)
    return JSON(stats_out(result))


@router.get(
    "/{endpoint_id}/transformation",
    response_model=EndpointTransformationOut,
    summary="Get the JavaScript transformation",
)
async def get_transformation(ctx: CtxDep, app_id: str, endpoint_id: str) -> Response:
    endpoint = await service.get_endpoint(ctx, app_id, endpoint_id)
    return JSON(transformation_out(endpoint))


@router.patch(
    "/{endpoint_id}/transformation",
    status_code=204,
    summary="Set, enable, disable or remove the JavaScript transformation",
)
async def set_transformation(
    ctx: CtxDep, app_id: str, endpoint_id: str, body: EndpointTransformationPatch
) -> Response:
    await patch_transformation(ctx, app_id, endpoint_id, body.fields_set())
    return Response(status_code=204)


@router.get(
    "/{endpoint_id}/health",
    response_model=EndpointHealthOut,
    summary="The endpoint's delivery health (circuit breaker state)",
)
async def health(ctx: CtxDep, app_id: str, endpoint_id: str) -> Response:
    endpoint, view = await service.endpoint_health(ctx, app_id, endpoint_id)
    return JSON(health_out(endpoint, view))
