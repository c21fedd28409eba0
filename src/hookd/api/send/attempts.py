"""Attempt history: /api/v1/app/{app_id}/attempt/..., .../msg/{msg_id}/endpoint, resend."""

from __future__ import annotations

from fastapi import APIRouter, Response

from hookd.api.params import AttemptListQueryDep, CtxDep, ListQueryDep
from hookd.api.send.models import (
    EndpointMessageOut,
    ListResponse,
    MessageAttemptOut,
    MessageEndpointOut,
)
from hookd.api.send.serialize import (
    JSON,
    attempt_out,
    endpoint_message_out,
    message_endpoint_out,
    page_out,
)
from hookd.services import attempts as service

router = APIRouter(prefix="/api/v1/app/{app_id}", tags=["Message Attempt"])


@router.get(
    "/attempt/endpoint/{endpoint_id}",
    response_model=ListResponse[MessageAttemptOut],
    summary="List an endpoint's attempts, newest first",
)
async def list_by_endpoint(
    ctx: CtxDep, app_id: str, endpoint_id: str, query: AttemptListQueryDep
) -> Response:
    page = await service.list_by_endpoint(ctx, app_id, endpoint_id, query)
    return JSON(page_out(page, attempt_out))


@router.get(
    "/attempt/msg/{msg_id}",
    response_model=ListResponse[MessageAttemptOut],
    summary="List a message's attempts, newest first",
)
async def list_by_msg(
    ctx: CtxDep,
    app_id: str,
    msg_id: str,
    query: AttemptListQueryDep,
    endpoint_id: str | None = None,
) -> Response:
    page = await service.list_by_message(ctx, app_id, msg_id, query, endpoint_id=endpoint_id)
    return JSON(page_out(page, attempt_out))


@router.get(
    "/msg/{msg_id}/attempt/{attempt_id}",
    response_model=MessageAttemptOut,
    summary="Get an attempt",
)
async def get_attempt(ctx: CtxDep, app_id: str, msg_id: str, attempt_id: str) -> Response:
    return JSON(attempt_out(await service.get_attempt(ctx, app_id, msg_id, attempt_id)))


@router.delete(
    "/msg/{msg_id}/attempt/{attempt_id}/content",
    status_code=204,
    summary="Delete an attempt's response body",
)
async def expunge_attempt_content(
    ctx: CtxDep, app_id: str, msg_id: str, attempt_id: str
) -> Response:
    await service.expunge_attempt_content(ctx, app_id, msg_id, attempt_id)
    return Response(status_code=204)


@router.get(
    "/msg/{msg_id}/endpoint",
    response_model=ListResponse[MessageEndpointOut],
    summary="List the endpoints a message was sent to",
)
async def list_destinations(ctx: CtxDep, app_id: str, msg_id: str, query: ListQueryDep) -> Response:
    page = await service.message_destinations(ctx, app_id, msg_id, query)
    return JSON(page_out(page, message_endpoint_out))


@router.get(
    "/endpoint/{endpoint_id}/msg",
    response_model=ListResponse[EndpointMessageOut],
    summary="List the messages sent to an endpoint",
)
async def list_endpoint_messages(
    ctx: CtxDep,
    app_id: str,
    endpoint_id: str,
    query: AttemptListQueryDep,
    with_content: bool = True,
) -> Response:
    page = await service.endpoint_messages(ctx, app_id, endpoint_id, query)
    return JSON(page_out(page, lambda pair: endpoint_message_out(pair, with_content=with_content)))


@router.post(
    "/msg/{msg_id}/endpoint/{endpoint_id}/resend",
    status_code=202,
    summary="Send a message to an endpoint again",
)
async def resend(ctx: CtxDep, app_id: str, msg_id: str, endpoint_id: str) -> Response:
    await service.resend(ctx, app_id, msg_id, endpoint_id)
    return JSON({}, status_code=202)
