"""The endpoint routes, written once for every owner of endpoints.

An application owns endpoints (``/api/v1/app/{app_id}/endpoint``), and so does a source: its
forwarding endpoints (``/ingest/api/v1/source/{source_id}/endpoint``) are the endpoints of the
hidden application it owns (``applications.kind = 'source'``, same id). The same operations
apply; only the path prefix, the tag, a few summaries and how the path's owner is found differ.
:func:`endpoint_router` builds the routes over an ``owner`` dependency that says how.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the route handlers' annotations
# at run time, and theirs name ``OwnerDep``, a local of endpoint_router that a string annotation
# could not be resolved against.
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from hookd.api.params import CtxDep, ListQueryDep
from hookd.api.send.models import (
    EndpointHeadersIn,
    EndpointHeadersOut,
    EndpointHeadersPatchIn,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointSecretOut,
    EndpointSecretRotateIn,
    EndpointTransformationOut,
    EndpointTransformationPatch,
    ListResponse,
)
from hookd.api.send.serialize import (
    JSON,
    endpoint_out,
    headers_out,
    page_out,
    secret_out,
    transformation_out,
)
from hookd.services.context import Context
from hookd.services.endpoints import crud as service
from hookd.services.endpoints.transformation import patch_transformation


@dataclass(frozen=True, slots=True)
class Owner:
    """The owner of a route's endpoints, as the path names it (an id or uid)."""

    ctx: Context
    named: str
    # The owning application's id (or id or uid: the services look applications up) for a name.
    resolve: Callable[[Context, str], Awaitable[str]]

    async def app_id(self) -> str:
        """The application whose endpoints these are.

        Resolved when the handler asks, after FastAPI validated the request (a dependency runs
        before that): a bad request is a 422 before an unknown owner is a 404, on every route.
        """
        return await self.resolve(self.ctx, self.named)


async def _endpoint_id(endpoint_id: str) -> str:
    return endpoint_id


# The path's endpoint id, taken by a dependency after the owner's: FastAPI documents a route's own
# parameters before its dependencies', and the OpenAPI parameters stay (owner id, endpoint_id).
EndpointId = Annotated[str, Depends(_endpoint_id)]


@dataclass(frozen=True, slots=True)
class Summaries:
    """The operations' summaries that name the endpoints (the others are the same for all)."""

    listing: str
    create: str
    get: str
    delete: str


def endpoint_router(
    prefix: str,
    tag: str,
    owner: Callable[..., Awaitable[Owner]],
    summaries: Summaries,
) -> APIRouter:
    """The endpoint routes under ``prefix``, whose endpoints ``owner`` (a FastAPI dependency
    taking the prefix's path parameter) names."""
    router = APIRouter(prefix=prefix, tags=[tag])
    OwnerDep = Annotated[Owner, Depends(owner)]

    @router.get("", response_model=ListResponse[EndpointOut], summary=summaries.listing)
    async def list_endpoints(ctx: CtxDep, owner: OwnerDep, query: ListQueryDep) -> Response:
        page = await service.list_endpoints(ctx, await owner.app_id(), query)
        return JSON(page_out(page, endpoint_out))

    @router.post("", response_model=EndpointOut, status_code=201, summary=summaries.create)
    async def create_endpoint(ctx: CtxDep, owner: OwnerDep, body: EndpointIn) -> Response:
        endpoint = await service.create_endpoint(ctx, await owner.app_id(), body.fields_set())
        return JSON(endpoint_out(endpoint), status_code=201)

    @router.get("/{endpoint_id}", response_model=EndpointOut, summary=summaries.get)
    async def get_endpoint(ctx: CtxDep, owner: OwnerDep, endpoint_id: EndpointId) -> Response:
        return JSON(
            endpoint_out(await service.get_endpoint(ctx, await owner.app_id(), endpoint_id))
        )

    @router.put(
        "/{endpoint_id}",
        response_model=EndpointOut,
        responses={201: {"model": EndpointOut, "description": "created"}},
        summary="Create or update an endpoint",
    )
    async def update_endpoint(
        ctx: CtxDep, owner: OwnerDep, endpoint_id: EndpointId, body: EndpointIn
    ) -> Response:
        endpoint, created = await service.update_endpoint(
            ctx, await owner.app_id(), endpoint_id, body.fields_set(), replace=True
        )
        return JSON(endpoint_out(endpoint), status_code=201 if created else 200)

    @router.patch("/{endpoint_id}", response_model=EndpointOut, summary="Patch an endpoint")
    async def patch_endpoint(
        ctx: CtxDep, owner: OwnerDep, endpoint_id: EndpointId, body: EndpointPatch
    ) -> Response:
        endpoint, _ = await service.update_endpoint(
            ctx, await owner.app_id(), endpoint_id, body.fields_set(), replace=False
        )
        return JSON(endpoint_out(endpoint))

    @router.delete("/{endpoint_id}", status_code=204, summary=summaries.delete)
    async def delete_endpoint(ctx: CtxDep, owner: OwnerDep, endpoint_id: EndpointId) -> Response:
        await service.delete_endpoint(ctx, await owner.app_id(), endpoint_id)
        return Response(status_code=204)

    @router.get(
        "/{endpoint_id}/secret",
        response_model=EndpointSecretOut,
        summary="Get the signing secret (and the URL's credentials)",
    )
    async def get_secret(ctx: CtxDep, owner: OwnerDep, endpoint_id: EndpointId) -> Response:
        endpoint = await service.get_endpoint(ctx, await owner.app_id(), endpoint_id)
        return JSON(secret_out(endpoint.secret, endpoint.url))

    @router.post(
        "/{endpoint_id}/secret/rotate",
        response_model=EndpointSecretOut,
        summary="Rotate the signing secret; the old one co-signs for the grace period",
    )
    async def rotate_secret(
        ctx: CtxDep, owner: OwnerDep, endpoint_id: EndpointId, body: EndpointSecretRotateIn
    ) -> Response:
        endpoint = await service.rotate_secret(
            ctx,
            await owner.app_id(),
            endpoint_id,
            key=body.key,
            grace_period_seconds=body.grace_period_seconds,
        )
        return JSON(secret_out(endpoint.secret))

    @router.get(
        "/{endpoint_id}/headers", response_model=EndpointHeadersOut, summary="Get custom headers"
    )
    async def get_headers(ctx: CtxDep, owner: OwnerDep, endpoint_id: EndpointId) -> Response:
        endpoint = await service.get_endpoint(ctx, await owner.app_id(), endpoint_id)
        return JSON(headers_out(endpoint.headers))

    @router.put("/{endpoint_id}/headers", status_code=204, summary="Replace custom headers")
    async def set_headers(
        ctx: CtxDep, owner: OwnerDep, endpoint_id: EndpointId, body: EndpointHeadersIn
    ) -> Response:
        app_id = await owner.app_id()
        await service.set_headers(ctx, app_id, endpoint_id, body.headers, replace=True)
        return Response(status_code=204)

    @router.patch("/{endpoint_id}/headers", status_code=204, summary="Merge custom headers")
    async def patch_headers(
        ctx: CtxDep, owner: OwnerDep, endpoint_id: EndpointId, body: EndpointHeadersPatchIn
    ) -> Response:
        app_id = await owner.app_id()
        await service.set_headers(
            ctx, app_id, endpoint_id, body.headers, replace=False, delete=body.delete_headers
        )
        return Response(status_code=204)

    @router.get(
        "/{endpoint_id}/transformation",
        response_model=EndpointTransformationOut,
        summary="Get the JavaScript transformation",
    )
    async def get_transformation(ctx: CtxDep, owner: OwnerDep, endpoint_id: EndpointId) -> Response:
        endpoint = await service.get_endpoint(ctx, await owner.app_id(), endpoint_id)
        return JSON(transformation_out(endpoint))

    @router.patch(
        "/{endpoint_id}/transformation",
        status_code=204,
        summary="Set, enable, disable or remove the JavaScript transformation",
    )
    async def set_transformation(
        ctx: CtxDep, owner: OwnerDep, endpoint_id: EndpointId, body: EndpointTransformationPatch
    ) -> Response:
        await patch_transformation(ctx, await owner.app_id(), endpoint_id, body.fields_set())
        return Response(status_code=204)

    return router
