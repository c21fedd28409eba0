"""/api/v1/relay: relays (docs/listen.md). Full admins only, but for an application's own
relay (``/api/v1/app/{app_id}/relay``, ``ManageEndpoint``: its rule in api/access/rules.py)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response

from hookd.api.params import CtxDep
from hookd.api.relays.models import (
    AppRelayIn,
    AttachedOut,
    AttachIn,
    FiltersIn,
    RelayIn,
    RelayOut,
    RelayPutIn,
)
from hookd.api.send.models import UID
from hookd.api.send.serialize import JSON
from hookd.core.domain import Endpoint, Source
from hookd.engine.relay import RelayHub
from hookd.services.context import Context
from hookd.services.errors import Invalid
from hookd.services.relays import relays as service

PREFIX = "/api/v1/relay"
LISTEN_PATH = PREFIX + "/{relay_id}/listen"
APP_RELAY_PATH = "/api/v1/app/{app_id}/relay"

UID_PATTERN = re.compile(UID)
MAX_UID = 256

router = APIRouter(prefix=PREFIX, tags=["Relay"])
app_router = APIRouter(tags=["Relay"])


def _hub(request: Request) -> RelayHub | None:
    hub: RelayHub | None = getattr(request.app.state, "relay_hub", None)
    return hub


def relay_out(ctx: Context, source: Source, hub: RelayHub | None) -> dict[str, Any]:
    return {
        "id": source.id,
        "uid": source.uid,
        "name": source.name,
        "url": service.relay_url(ctx, source),
        "listenPath": LISTEN_PATH.format(relay_id=source.id),
        "listeners": 0 if hub is None else hub.connected(source.id),
        "metadata": source.metadata,
        "createdAt": source.created_at,
    }


def attached_out(
    ctx: Context, source: Source, endpoint: Endpoint, hub: RelayHub | None
) -> dict[str, Any]:
    return {
        "relay": relay_out(ctx, source, hub),
        "appId": endpoint.app_id,
        "endpointId": endpoint.id,
        "filterTypes": None if endpoint.filter_types is None else list(endpoint.filter_types),
        "filter": endpoint.filter,
    }


def _filters(body: FiltersIn) -> service.Filters:
    return service.Filters(body.filter_types, body.filter)


@router.post("", response_model=RelayOut, status_code=201, summary="Create a relay")
async def create_relay(ctx: CtxDep, request: Request, body: RelayIn) -> Response:
    source = await service.create_relay(ctx, body.fields_set())
    return JSON(relay_out(ctx, source, _hub(request)), status_code=201)


@router.get("/{relay_id}", response_model=RelayOut, summary="Get a relay by id or uid")
async def get_relay(ctx: CtxDep, request: Request, relay_id: str) -> Response:
    return JSON(relay_out(ctx, await service.get_relay(ctx, relay_id), _hub(request)))


@router.put(
    "/{relay_id}",
    response_model=RelayOut,
    summary="Get or create the relay with this uid, with its filters (hookd listen --relay)",
)
async def put_relay(ctx: CtxDep, request: Request, relay_id: str, body: RelayPutIn) -> Response:
    # One path template per resource (the other methods take an id or a uid): here, a uid.
    if not UID_PATTERN.match(relay_id) or len(relay_id) > MAX_UID:
        raise Invalid("a relay uid is letters, digits, '-', '_' and '.'", loc=("path", "relay_id"))
    fields = {"name": body.name, "metadata": body.metadata}
    source = await service.upsert_relay(ctx, relay_id, fields, _filters(body))
    return JSON(relay_out(ctx, source, _hub(request)))


@router.delete("/{relay_id}", status_code=204, summary="Delete a relay and its attachments")
async def delete_relay(ctx: CtxDep, relay_id: str) -> Response:
    await service.delete_relay(ctx, relay_id)
    return Response(status_code=204)


@router.post(
    "/{relay_id}/attach",
    response_model=AttachedOut,
    summary="Attach a relay to a source or an application",
)
async def attach_relay(ctx: CtxDep, request: Request, relay_id: str, body: AttachIn) -> Response:
    source = await service.get_relay(ctx, relay_id)
    endpoint = await service.attach(
        ctx, source, source=body.source, app=body.app, filters=_filters(body)
    )
    return JSON(attached_out(ctx, source, endpoint, _hub(request)))


@app_router.post(
    APP_RELAY_PATH,
    response_model=AttachedOut,
    summary="The application's own relay, attached to it",
)
async def app_relay(ctx: CtxDep, request: Request, app_id: str, body: AppRelayIn) -> Response:
    source, endpoint = await service.app_relay(ctx, app_id, _filters(body))
    return JSON(attached_out(ctx, source, endpoint, _hub(request)))
