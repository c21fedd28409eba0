"""/api/v1/alert/channel: where alert issues' notices go (Slack, Teams, Discord, email, webhook).

Answers mask the secrets (Slack, Teams and Discord URLs are credentials); ``GET {id}/secret``
shows them in clear, as an endpoint's secret route does.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from hookd.api.alerts.channel_models import (
    AlertChannelIn,
    AlertChannelOut,
    AlertChannelPatch,
    AlertChannelPut,
    AlertChannelSecretOut,
    AlertChannelTestOut,
)
from hookd.api.errors import error
from hookd.api.params import CtxDep, ListQueryDep
from hookd.api.send.models import EndpointSecretRotateIn, ErrorOut, ListResponse
from hookd.api.send.serialize import JSON, page_out
from hookd.core.alerts.channels import POSTED, WEBHOOK, mask_secret_url
from hookd.core.masking import mask_url
from hookd.services.alerts import channels as service
from hookd.services.alerts.notify import send_test
from hookd.services.alerts.webhook_app import ALERT_APP_ID
from hookd.services.endpoints import crud as endpoint_service

router = APIRouter(prefix="/api/v1/alert/channel", tags=["Alert Channel"])


def channel_out(view: service.ChannelView) -> dict[str, Any]:
    channel, endpoint = view.channel, view.endpoint
    config: dict[str, Any] = dict(channel.config)
    if channel.type in POSTED:
        config = {"url": mask_secret_url(str(channel.config["url"]))}
    elif channel.type == WEBHOOK:
        config = {
            "url": None if endpoint is None else mask_url(endpoint.url),
            "appId": ALERT_APP_ID,
            "endpointId": None if endpoint is None else endpoint.id,
        }
    return {
        "id": channel.id,
        "name": channel.name,
        "type": channel.type,
        "config": config,
        "disabled": channel.disabled,
        "createdAt": channel.created_at,
        "updatedAt": channel.updated_at,
    }


@router.get("", response_model=ListResponse[AlertChannelOut], summary="List alert channels")
async def list_channels(ctx: CtxDep, paging: ListQueryDep) -> Response:
    page = await service.list_channels(ctx, paging)
    return JSON(page_out(page, channel_out))


@router.post("", response_model=AlertChannelOut, status_code=201, summary="Create an alert channel")
async def create_channel(ctx: CtxDep, body: AlertChannelIn) -> Response:
    view = await service.create_channel(ctx, body.fields_set())
    return JSON(channel_out(view), status_code=201)


@router.get("/{channel_id}", response_model=AlertChannelOut, summary="Get an alert channel")
async def get_channel(ctx: CtxDep, channel_id: str) -> Response:
    return JSON(channel_out(await service.get_channel(ctx, channel_id)))


@router.put("/{channel_id}", response_model=AlertChannelOut, summary="Update an alert channel")
async def update_channel(ctx: CtxDep, channel_id: str, body: AlertChannelPut) -> Response:
    view = await service.update_channel(ctx, channel_id, body.fields_set(), replace=True)
    return JSON(channel_out(view))


@router.patch(
    "/{channel_id}", response_model=AlertChannelOut, summary="Update some of an alert channel"
)
async def patch_channel(ctx: CtxDep, channel_id: str, body: AlertChannelPatch) -> Response:
    view = await service.update_channel(ctx, channel_id, body.fields_set(), replace=False)
    return JSON(channel_out(view))


@router.delete(
    "/{channel_id}",
    status_code=204,
    responses={
        409: {"model": ErrorOut, "description": "channel_in_use: alert rules notify the channel"}
    },
    summary="Delete an alert channel (not one that alert rules notify)",
)
async def delete_channel(ctx: CtxDep, channel_id: str) -> Response:
    await service.delete_channel(ctx, channel_id)
    return Response(status_code=204)


@router.post(
    "/{channel_id}/test",
    response_model=AlertChannelTestOut,
    responses={502: {"description": "the channel did not take the test notice"}},
    summary="Send a test notice to the channel",
)
async def send_test_notice(ctx: CtxDep, channel_id: str) -> Response:
    outcome = await send_test(ctx, channel_id)
    if not outcome.ok:
        return error(502, outcome.error or "the channel failed", "channel_test_failed")
    return JSON({"ok": True, "statusCode": outcome.status_code, "msgId": outcome.msg_id})


@router.get(
    "/{channel_id}/secret",
    response_model=AlertChannelSecretOut,
    summary="The channel's secrets in clear: its URL, a webhook channel's signing secret",
)
async def get_secret(ctx: CtxDep, channel_id: str) -> Response:
    return JSON(await service.channel_secret(ctx, channel_id))


@router.post(
    "/{channel_id}/secret/rotate",
    status_code=204,
    summary="Rotate a webhook channel's signing secret; the old one co-signs for the grace period",
)
async def rotate_secret(ctx: CtxDep, channel_id: str, body: EndpointSecretRotateIn) -> Response:
    endpoint_id = await service.webhook_endpoint_id(ctx, channel_id)
    await endpoint_service.rotate_secret(
        ctx,
        ALERT_APP_ID,
        endpoint_id,
        key=body.key,
        grace_period_seconds=body.grace_period_seconds,
    )
    return Response(status_code=204)
