"""/api/v1/auth: app portal access, Svix's ``authentication`` API.

``app-portal-access`` answers ``{url, token}``: the token is a bearer token for the API, limited
to the application and its capabilities; the url opens hookd's portal (:data:`PORTAL_PATH`) with
the token in its fragment (``#key=``, never sent to a server), as Svix's magic links do: the
base64 of ``{"appId": ..., "token": ...}``.
"""

from __future__ import annotations

import base64
import urllib.parse
from typing import Annotated

import orjson
from fastapi import APIRouter, Body, Depends, Request, Response

from hookd.api.access.models import ApplicationTokenExpireIn, AppPortalAccessIn, AppPortalAccessOut
from hookd.api.auth import PrincipalDep, authorize
from hookd.api.params import CtxDep
from hookd.api.send.serialize import JSON
from hookd.core.access import Capability
from hookd.services.access import portal as service

router = APIRouter(prefix="/api/v1/auth", tags=["Authentication"])
authorized = [Depends(authorize)]
# Where the portal lives, under the public URL (HOOKD_PUBLIC_URL, else the request's).
PORTAL_PATH = "/portal"
# The route whose answer carries a new token.
ACCESS_PATH = "/api/v1/auth/app-portal-access/{app_id}"


def portal_url(base: str, app_id: str, token: str) -> str:
    """The magic link: the portal with ``#key=`` the base64 of the application and token."""
    key = base64.b64encode(orjson.dumps({"appId": app_id, "token": token})).decode()
    return f"{base.rstrip('/')}{PORTAL_PATH}#key={urllib.parse.quote(key, safe='')}"


@router.post(
    "/app-portal-access/{app_id}",
    response_model=AppPortalAccessOut,
    dependencies=authorized,
    summary="A token and magic link for the application's app portal",
)
async def app_portal_access(
    request: Request, ctx: CtxDep, app_id: str, body: Annotated[AppPortalAccessIn, Body()]
) -> Response:
    granted, token = await service.portal_access(
        ctx,
        app_id,
        capabilities=(
            None if body.capabilities is None else [Capability(c) for c in body.capabilities]
        ),
        read_only=bool(body.read_only),
        feature_flags=body.feature_flags or (),
        expiry_seconds=body.expiry,
        session_id=body.session_id,
        application=body.application.fields_set() if body.application else None,
    )
    base = ctx.settings.public_url or str(request.base_url)
    return JSON({"url": portal_url(base, granted.app_id, token), "token": token})


@router.post(
    "/app/{app_id}/expire-all",
    status_code=204,
    dependencies=authorized,
    summary="Expire the application's portal tokens (or some sessions' tokens)",
)
async def expire_all(
    ctx: CtxDep, app_id: str, body: Annotated[ApplicationTokenExpireIn, Body()]
) -> Response:
    # An empty list names no session: every token of the application, as without one.
    sessions = body.session_ids or None
    await service.expire_all(ctx, app_id, expiry_seconds=body.expiry, session_ids=sessions)
    return Response(status_code=204)


@router.post(
    "/logout",
    status_code=204,
    summary="End the app portal token this request carries (portal tokens only)",
)
async def logout(ctx: CtxDep, principal: PrincipalDep) -> Response:
    await service.logout(ctx, principal)
    return Response(status_code=204)
