"""/api/v1/app/{app_id}/endpoint: the routes every endpoint owner has (api/endpoint_routes.py),
and recovery, stats and health, which only an application's endpoints have."""

from __future__ import annotations

from fastapi import Response

from hookd.api.endpoint_routes import Owner, Summaries, endpoint_router
from hookd.api.params import CtxDep
from hookd.api.send.models import EndpointHealthOut, EndpointStatsOut, RecoverIn, RecoverOut, Time
from hookd.api.send.serialize import JSON, health_out, stats_out, task_out
from hookd.services.context import Context
from hookd.services.endpoints import crud as service


async def _as_named(_: Context, app_id: str) -> str:
    return app_id  # the services look the application up by id or uid


async def application(ctx: CtxDep, app_id: str) -> Owner:
    """The application the path names."""
    return Owner(ctx, app_id, _as_named)


router = endpoint_router(
    "/api/v1/app/{app_id}/endpoint",
    "Endpoint",
    application,
    Summaries(
        listing="List endpoints",
        create="Create an endpoint",
        get="Get an endpoint",
        delete="Delete an endpoint",
    ),
)


@router.post(
    "/{endpoint_id}/recover",
    response_model=RecoverOut,
    status_code=202,
    summary="Resend the failed messages since a time",
)
async def recover(ctx: CtxDep, app_id: str, endpoint_id: str, body: RecoverIn) -> Response:
    task = await service.recover(ctx, app_id, endpoint_id, since=body.since, until=body.until)
    return JSON(task_out(task), status_code=202)


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
    "/{endpoint_id}/health",
    response_model=EndpointHealthOut,
    summary="The endpoint's delivery health (circuit breaker state)",
)
async def health(ctx: CtxDep, app_id: str, endpoint_id: str) -> Response:
    endpoint, view = await service.endpoint_health(ctx, app_id, endpoint_id)
    return JSON(health_out(endpoint, view))
