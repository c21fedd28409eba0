"""/api/v1/app/{app_id}/endpoint/{endpoint_id}/call"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from hookd.api.calls.models import CallIn, CallOut
from hookd.api.calls.serialize import call_out
from hookd.api.params import CtxDep
from hookd.api.send.messages import encode_payload
from hookd.api.send.models import ErrorOut
from hookd.api.send.serialize import JSON
from hookd.services.calls import call as service

router = APIRouter(prefix="/api/v1/app/{app_id}/endpoint/{endpoint_id}", tags=["Call"])

# Failed calls without a fallback response: the call's error code to the HTTP status.
FAILURE_STATUS = {"timeout": 504, "call_failed": 502}


def transport(request: Request) -> service.CallTransport:
    """The call sender the application started (``engine.calls``)."""
    found: service.CallTransport = request.app.state.call_sender
    return found


TransportDep = Annotated[service.CallTransport, Depends(transport)]


@router.post(
    "/call",
    response_model=CallOut,
    responses={502: {"model": ErrorOut}, 504: {"model": ErrorOut}},
    summary="Call the endpoint now and return its answer within the deadline",
)
async def call_endpoint(
    ctx: CtxDep, sender: TransportDep, app_id: str, endpoint_id: str, body: CallIn
) -> Response:
    payload = None
    if body.payload is not None:
        payload = encode_payload(body.payload, ("body", "payload"))
    outcome = await service.call_endpoint(
        ctx,
        sender,
        app_id,
        endpoint_id,
        payload=payload,
        params=body.params,
        timeout_ms=body.timeout_ms,
    )
    error = outcome.error
    if error is not None and not outcome.fallback and error.code in FAILURE_STATUS:
        out = {
            "code": error.code,
            "detail": error.detail,
            "attemptId": outcome.attempt_id,
            "msgId": outcome.msg_id,
            "durationMs": outcome.duration_ms,
            "queued": outcome.queued,
        }
        return JSON(out, status_code=FAILURE_STATUS[error.code])
    return JSON(call_out(outcome))
