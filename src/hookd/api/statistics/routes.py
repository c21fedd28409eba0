"""Statistics: Svix's ``/api/v1/stats/usage/...`` background tasks and an endpoint's
``attempt-stats``; hookd's series of an endpoint's attempts and of a source's requests. Every
count comes from the rolled-up counters (``services.statistics``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from hookd.api.params import CtxDep
from hookd.api.send.models import Time
from hookd.api.send.serialize import JSON
from hookd.api.statistics.models import (
    AggregateEventTypesOut,
    AppUsageStatsIn,
    AppUsageStatsOut,
    AttemptSeriesOut,
    EndpointAttemptStatsOut,
    Interval,
    RequestSeriesOut,
)
from hookd.core.domain import BackgroundTask
from hookd.services import statistics as service
from hookd.services.statistics import Series

router = APIRouter(prefix="/api/v1/stats", tags=["Statistics"])
endpoint_router = APIRouter(prefix="/api/v1/app/{app_id}/endpoint", tags=["Endpoint"])
source_router = APIRouter(prefix="/ingest/api/v1/source", tags=["Ingest Source"])


def _task_head(task: BackgroundTask) -> dict[str, Any]:
    return {"id": task.id, "status": task.status, "task": task.task, "updatedAt": task.updated_at}


@router.post(
    "/usage/app",
    response_model=AppUsageStatsOut,
    status_code=202,
    summary="Count the messages sent to endpoints per application (a background task)",
)
async def aggregate_app_stats(ctx: CtxDep, body: AppUsageStatsIn) -> Response:
    task, unresolved = await service.aggregate_app_stats(ctx, body.since, body.until, body.app_ids)
    return JSON(_task_head(task) | {"unresolvedAppIds": unresolved}, status_code=202)


@router.put(
    "/usage/event-types",
    response_model=AggregateEventTypesOut,
    status_code=202,
    summary="List the event types each application subscribes to (a background task)",
)
async def aggregate_event_types(ctx: CtxDep) -> Response:
    task = await service.aggregate_event_types(ctx)
    return JSON(_task_head(task), status_code=202)


@endpoint_router.get(
    "/{endpoint_id}/attempt-stats",
    response_model=EndpointAttemptStatsOut,
    summary="Attempts by outcome over whole hours (default: the last day)",
)
async def attempt_stats(
    ctx: CtxDep,
    app_id: str,
    endpoint_id: str,
    since: Time | None = None,
    until: Time | None = None,
) -> Response:
    counts = await service.attempt_stats(ctx, app_id, endpoint_id, since=since, until=until)
    return JSON(counts)


def _series_out(series: Series) -> dict[str, Any]:
    return {
        "interval": series.interval,
        "since": series.since,
        "until": series.until,
        "data": [{"start": start, **counts} for start, counts in series.points],
    }


# The counters' column names as the API spells them.
ATTEMPT_KEYS = {
    "fail_4xx": "fail4xx",
    "fail_5xx": "fail5xx",
    "fail_no_response": "failNoResponse",
    "transform_failures": "transformFailures",
}


@endpoint_router.get(
    "/{endpoint_id}/stats/attempts",
    response_model=AttemptSeriesOut,
    summary="Attempts per minute, hour or day (hookd)",
)
async def attempt_series(
    ctx: CtxDep,
    app_id: str,
    endpoint_id: str,
    since: Time | None = None,
    until: Time | None = None,
    interval: Interval = "hour",
) -> Response:
    series = await service.attempt_series(
        ctx, app_id, endpoint_id, since=since, until=until, interval=interval
    )
    out = _series_out(series)
    out["data"] = [{ATTEMPT_KEYS.get(k, k): v for k, v in point.items()} for point in out["data"]]
    return JSON(out)


@source_router.get(
    "/{source_id}/stats",
    response_model=RequestSeriesOut,
    summary="Requests received per minute, hour or day, by outcome (hookd)",
)
async def request_series(
    ctx: CtxDep,
    source_id: str,
    since: Time | None = None,
    until: Time | None = None,
    interval: Interval = "hour",
) -> Response:
    _, series = await service.request_series(
        ctx, source_id, since=since, until=until, interval=interval
    )
    return JSON(_series_out(series))
