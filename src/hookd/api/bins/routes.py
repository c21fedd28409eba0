"""/api/v1/bin: request bins (docs/bins.md). Full admins only.

A bin is a source of type ``bin``: its requests are inbound request records, which the Ingest
API's request routes show too. This router adds what a bin needs: making one with its answer,
its requests in full (headers and exact body), a live tail as server-sent events, and a replay
to any URL.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import StreamingResponse

from hookd.api.bins.models import BinIn, BinOut, BinPatch, BinRequestOut, ReplayIn, ReplayOut
from hookd.api.bins.serialize import bin_out, replay_out, request_out
from hookd.api.params import CtxDep, ListQueryDep
from hookd.api.send.models import ListResponse
from hookd.api.send.serialize import JSON, page_out
from hookd.core.domain import InboundRecord
from hookd.services.bins import bins as service
from hookd.services.bins.replay import RequestSender, replay_capture
from hookd.services.ingest import tail

router = APIRouter(prefix="/api/v1/bin", tags=["Request Bin"])

REQUEST_ID = re.compile(r"^req_[0-9A-Za-z]{27}$")
KEEPALIVE_SECONDS = 15.0
EVENT_STREAM = "text/event-stream"


@router.post("", response_model=BinOut, status_code=201, summary="Create a request bin")
async def create_bin(ctx: CtxDep, body: BinIn) -> Response:
    fields = body.fields_set()
    if body.answer is not None:
        fields["answer"] = body.answer.model_dump(by_alias=True)
    source = await service.create_bin(ctx, fields)
    return JSON(bin_out(ctx, source), status_code=201)


@router.get("", response_model=ListResponse[BinOut], summary="List request bins")
async def list_bins(ctx: CtxDep, query: ListQueryDep) -> Response:
    page = await service.list_bins(ctx, query)
    return JSON(page_out(page, lambda source: bin_out(ctx, source)))


@router.get("/{bin_id}", response_model=BinOut, summary="Get a request bin by id or uid")
async def get_bin(ctx: CtxDep, bin_id: str) -> Response:
    return JSON(bin_out(ctx, await service.get_bin(ctx, bin_id)))


@router.patch("/{bin_id}", response_model=BinOut, summary="Change a bin's answer or TTL")
async def update_bin(ctx: CtxDep, bin_id: str, body: BinPatch) -> Response:
    fields = body.fields_set()
    if body.answer is not None:
        fields["answer"] = body.answer.model_dump(by_alias=True)
    return JSON(bin_out(ctx, await service.update_bin(ctx, bin_id, fields)))


@router.delete("/{bin_id}", status_code=204, summary="Delete a bin and all it captured")
async def delete_bin(ctx: CtxDep, bin_id: str) -> Response:
    await service.delete_bin(ctx, bin_id)
    return Response(status_code=204)


@router.get(
    "/{bin_id}/request",
    response_model=ListResponse[BinRequestOut],
    summary="List the requests a bin captured, newest first",
)
async def list_requests(ctx: CtxDep, bin_id: str, query: ListQueryDep) -> Response:
    page = await service.list_captures(ctx, bin_id, query)
    return JSON(page_out(page, request_out))


@router.get(
    "/{bin_id}/request/{request_id}",
    response_model=BinRequestOut,
    summary="Get a captured request: headers and exact body",
)
async def get_request(ctx: CtxDep, bin_id: str, request_id: str) -> Response:
    return JSON(request_out(await service.get_capture(ctx, bin_id, request_id)))


@router.post(
    "/{bin_id}/request/{request_id}/replay",
    response_model=ReplayOut,
    summary="Send a captured request to any URL (SSRF-guarded) and return its answer",
)
async def replay_request(
    ctx: CtxDep, request: Request, bin_id: str, request_id: str, body: ReplayIn
) -> Response:
    sender: RequestSender = request.app.state.replay_sender
    timeout = (body.timeout_ms / 1000) if body.timeout_ms else ctx.settings.request_timeout
    result = await replay_capture(ctx, bin_id, request_id, body.url, sender, timeout)
    return JSON(replay_out(result))


def _event(record: InboundRecord) -> bytes:
    data = orjson.dumps(request_out(record), option=orjson.OPT_UTC_Z)
    return b"id: " + record.id.encode() + b"\nevent: request\ndata: " + data + b"\n\n"


@router.get(
    "/{bin_id}/stream",
    response_class=StreamingResponse,
    summary="Follow a bin live: its new requests as server-sent events",
    description="Each request the bin captures from now on is an event `request` whose data is "
    "the request as `GET /api/v1/bin/{bin_id}/request/{request_id}` answers it, and whose id is "
    "the request's id; `Last-Event-ID` resumes after one. A comment line opens the stream once "
    "it follows the bin, and another keeps it alive every 15 s.",
    responses={200: {"content": {EVENT_STREAM: {"schema": {"type": "string"}}}}},
)
async def stream_requests(
    ctx: CtxDep,
    bin_id: str,
    last_event_id: Annotated[str | None, Header(max_length=64)] = None,
) -> StreamingResponse:
    source = await service.get_bin(ctx, bin_id)  # 404 as JSON, before the stream starts
    after = last_event_id if last_event_id and REQUEST_ID.match(last_event_id) else None

    async def events() -> AsyncIterator[bytes]:
        idle = 0.0
        opened = False
        async for batch in tail.follow(ctx, source.id, after=after):
            if not opened:  # the starting point is fixed: what comes next is sent
                opened = True
                yield f": following bin {source.id}\n\n".encode()
            if batch:
                idle = 0.0
                for record in batch:
                    yield _event(record)
                continue
            idle += tail.POLL_SECONDS
            if idle >= KEEPALIVE_SECONDS:
                idle = 0.0
                yield b": keep-alive\n\n"

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type=EVENT_STREAM, headers=headers)
