"""/api/v1/payload/{msg_id}: a thin webhook's payload, for whoever holds its signed link.

No admin token: the link's signature (``core.payloads.links``) is the proof, and it expires.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from hookd.api.params import CtxDep
from hookd.api.send.models import ErrorOut
from hookd.core.payloads.links import PATH, PayloadLink
from hookd.services.messages import payload_shapes as service

router = APIRouter(tags=["Payload"])
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorOut, "description": "the link was altered or has expired"},
    404: {"model": ErrorOut, "description": "the message or its endpoint was deleted"},
    410: {"model": ErrorOut, "description": "the payload was expunged"},
}


@router.get(
    PATH + "/{msg_id}",
    summary="Fetch a thin webhook's payload by its signed link",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}, **ERRORS},
)
async def get_payload(
    ctx: CtxDep,
    msg_id: str,
    endpoint: Annotated[str, Query(max_length=40)],
    version: Annotated[int, Query(ge=1)],
    expires: int,
    signature: Annotated[str, Query(max_length=100)],
) -> Response:
    link = PayloadLink(msg_id, endpoint, version, expires, signature)
    message, payload = await service.linked_payload(ctx, link)
    style = ctx.settings.signature_headers
    headers = {
        "Cache-Control": "no-store",
        f"{style}-id": message.id,
        f"{style}-version": str(version),
    }
    media_type = message.content_type or "application/json"
    return Response(payload, media_type=media_type, headers=headers)
