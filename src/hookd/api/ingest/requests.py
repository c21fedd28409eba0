"""/ingest/api/v1/source/{source_id}/request: what a source received, and replaying it (hookd)."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Query, Response

from hookd.api.ingest.models import (
    BulkReplayIn,
    BulkReplayOut,
    InboundRequestDetailOut,
    InboundRequestOut,
    Outcome,
    ReplayOut,
)
from hookd.api.ingest.serialize import request_detail_out, request_out
from hookd.api.params import CtxDep, ListQueryDep
from hookd.api.send.models import ListResponse, Time
from hookd.api.send.serialize import JSON, page_out, task_out
from hookd.core.domain import DeliveryStatus
from hookd.services.ingest import inbound_requests as service

router = APIRouter(prefix="/ingest/api/v1/source/{source_id}/request", tags=["Ingest Request"])


@router.get(
    "",
    response_model=ListResponse[InboundRequestOut],
    summary="List the requests a source received, newest first",
)
async def list_requests(
    ctx: CtxDep,
    source_id: str,
    query: ListQueryDep,
    outcome: Annotated[list[Outcome] | None, Query()] = None,
    before: Time | None = None,
    after: Time | None = None,
) -> Response:
    window = dataclasses.replace(query, before=before, after=after)
    page = await service.list_requests(
        ctx, source_id, window, outcomes=list(outcome) if outcome else None
    )
    return JSON(page_out(page, request_out))


@router.post(
    "/replay",
    response_model=BulkReplayOut,
    summary="Forward again every matching request in a time range (synchronous)",
)
async def replay_requests(ctx: CtxDep, source_id: str, body: BulkReplayIn) -> Response:
    result = await service.replay_requests(
        ctx,
        source_id,
        since=body.since,
        until=body.until,
        outcomes=list(body.outcomes),
        status=DeliveryStatus[body.status.upper()] if body.status else None,
        force=body.force,
    )
    return JSON(task_out(result.task))


@router.get(
    "/{request_id}",
    response_model=InboundRequestDetailOut,
    summary="Get a request: headers, raw body, verification, where it was forwarded",
)
async def get_request(ctx: CtxDep, source_id: str, request_id: str) -> Response:
    return JSON(request_detail_out(await service.inspect_request(ctx, source_id, request_id)))


@router.post(
    "/{request_id}/replay",
    response_model=ReplayOut,
    status_code=202,
    summary="Forward a request again (a rejected one only with force=true)",
)
async def replay_request(
    ctx: CtxDep, source_id: str, request_id: str, force: bool = False
) -> Response:
    count = await service.replay_request(ctx, source_id, request_id, force=force)
    return JSON({"deliveriesQueued": count}, status_code=202)
