"""/api/v1/api-key: hookd's own API keys with scopes (full admins only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from hookd.api.access.models import ApiKeyCreatedOut, ApiKeyIn, ApiKeyOut
from hookd.api.params import CtxDep, ListQueryDep
from hookd.api.send.models import ListResponse
from hookd.api.send.serialize import JSON, page_out
from hookd.core.access import ApiKey
from hookd.services.access import api_keys as service

router = APIRouter(prefix="/api/v1/api-key", tags=["API Key"])
# The route whose answer carries a new token.
CREATE_PATH = "/api/v1/api-key"


def key_out(key: ApiKey) -> dict[str, Any]:
    """A key as listed: never its token."""
    return {
        "id": key.id,
        "name": key.name,
        "scope": key.scope.value,
        "appId": key.app_id,
        "createdAt": key.created_at,
        "lastUsedAt": key.last_used_at,
        "expiresAt": key.expires_at,
    }


@router.get("", response_model=ListResponse[ApiKeyOut], summary="List API keys (never tokens)")
async def list_keys(ctx: CtxDep, paging: ListQueryDep) -> Response:
    page = await service.list_keys(ctx, paging)
    return JSON(page_out(page, key_out))


@router.post(
    "",
    response_model=ApiKeyCreatedOut,
    status_code=201,
    summary="Create an API key; its token is in this answer only",
)
async def create_key(ctx: CtxDep, body: ApiKeyIn) -> Response:
    key, token = await service.create_key(
        ctx, name=body.name, scope=body.scope, app_ref=body.app_id, expires_at=body.expires_at
    )
    return JSON({**key_out(key), "token": token}, status_code=201)


@router.get("/{key_id}", response_model=ApiKeyOut, summary="Get an API key (never its token)")
async def get_key(ctx: CtxDep, key_id: str) -> Response:
    return JSON(key_out(await service.get_key(ctx, key_id)))


@router.delete("/{key_id}", status_code=204, summary="Revoke an API key")
async def revoke_key(ctx: CtxDep, key_id: str) -> Response:
    await service.revoke_key(ctx, key_id)
    return Response(status_code=204)
