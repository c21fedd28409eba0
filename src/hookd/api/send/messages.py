"""/api/v1/app/{app_id}/msg"""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Query, Request, Response

from hookd.api.idempotency import CREATE_KEY, replayed
from hookd.api.params import CtxDep, ListQueryDep
from hookd.api.send.models import (
    BackgroundTaskOut,
    BulkExpungeContentsIn,
    BulkExpungeContentsOut,
    ListResponse,
    MessageIn,
    MessageOut,
    Time,
)
from hookd.api.send.serialize import JSON, message_out, page_out, task_out
from hookd.core.domain import Message
from hookd.services import background_tasks
from hookd.services.context import Context
from hookd.services.create_keys import KeyHeld, KeyRequest
from hookd.services.errors import Conflict, Invalid
from hookd.services.idempotency import STILL_RUNNING, fingerprint
from hookd.services.messages import crud as service

router = APIRouter(prefix="/api/v1/app/{app_id}/msg", tags=["Message"])


@router.get(
    "",
    response_model=ListResponse[MessageOut],
    summary="List messages, newest first (order=ascending: oldest first)",
)
async def list_messages(
    ctx: CtxDep,
    app_id: str,
    query: ListQueryDep,
    event_types: Annotated[list[str] | None, Query()] = None,
    channel: str | None = None,
    tag: str | None = None,
    before: Time | None = None,
    after: Time | None = None,
    with_content: bool = True,
) -> Response:
    # SDKs send repeated keys or one comma-separated value; accept both.
    types = [part for item in event_types or () for part in item.split(",") if part] or None
    window = dataclasses.replace(query, before=before, after=after)
    page = await service.list_messages(
        ctx, app_id, window, event_types=types, channel=channel, tag=tag
    )
    return JSON(page_out(page, lambda msg: message_out(msg, with_content=with_content)))


@router.post("", response_model=MessageOut, status_code=201, summary="Create a message")
async def create_message(
    request: Request,
    ctx: CtxDep,
    app_id: str,
    body: Annotated[MessageIn, Body()],
    with_content: bool = True,
    validate: Annotated[
        bool | None, Query(description="check against the event type's JSON Schema")
    ] = None,
) -> Response:
    scoped = request.scope.get(CREATE_KEY)
    return await create_response(
        ctx,
        app_id,
        body,
        with_content=with_content,
        validate=validate,
        idempotency_key=scoped,
        # FastAPI has read the body into the request already: no second read.
        request_fingerprint=(
            fingerprint(request.scope.get("query_string", b""), await request.body())
            if scoped
            else None
        ),
    )


async def create_response(
    ctx: Context,
    app_id: str,
    body: MessageIn,
    *,
    with_content: bool,
    validate: bool | None,
    idempotency_key: str | None = None,
    request_fingerprint: str | None = None,
) -> Response:
    """``request_fingerprint`` (``services.idempotency.fingerprint``) comes with the key."""
    # The payload is serialized exactly once, here; those bytes are stored, signed and sent.
    payload = _encode(body.payload, ("body", "payload"))
    versions = {
        version: _encode(other, ("body", "payloadVersions", str(version)))
        for version, other in (body.payload_versions or {}).items()
    }

    def answer(message: Message) -> bytes:
        # The bytes the created response below carries (JSON renders with these options).
        return JSON.render_content(message_out(message, with_content=with_content))

    key = None
    if idempotency_key is not None:
        assert request_fingerprint is not None
        key = KeyRequest(idempotency_key, answer, request_fingerprint)
    try:
        message, _ = await service.create_message(
            ctx,
            app_id,
            payload=payload,
            event_type=body.event_type,
            event_id=body.event_id,
            channels=body.channels,
            tags=body.tags,
            application=body.application.fields_set() if body.application else None,
            payload_versions=versions,
            payload_version=body.payload_version,
            validate=validate,
            payload_retention_days=body.payload_retention_period,
            payload_retention_hours=body.payload_retention_hours,
            deliver_at=body.deliver_at,
            key=key,
        )
    except KeyHeld as held:
        if held.state != "done":
            raise Conflict(STILL_RUNNING) from held
        return replayed(held.status_code, held.content_type, held.body)
    return JSON(message_out(message, with_content=with_content), status_code=201)


def _encode(payload: dict[str, Any], loc: tuple[str, ...]) -> bytes:
    return encode_payload(payload, loc)


def encode_payload(payload: dict[str, Any], loc: tuple[str, ...]) -> bytes:
    """A payload's JSON bytes. A payload is any JSON object: orjson refuses integers beyond
    64 bits, which JSON allows (and Svix takes), so those payloads go through the stdlib's
    encoder, which writes every digit."""
    try:
        return orjson.dumps(payload)
    except orjson.JSONEncodeError:
        try:
            text = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
            return text.encode()
        except (TypeError, ValueError) as exc:
            raise Invalid(f"payload cannot be encoded: {exc}", loc=loc) from exc


@router.post(
    "/bulk-expunge",
    response_model=BulkExpungeContentsOut,
    summary="Delete the payloads of the given messages (ids or eventIds)",
)
async def bulk_expunge_content(ctx: CtxDep, app_id: str, body: BulkExpungeContentsIn) -> Response:
    results = await service.bulk_expunge_content(ctx, app_id, body.ids or [])
    return JSON({"results": results})


@router.post(
    "/expunge-all-contents",
    response_model=BackgroundTaskOut,
    status_code=202,
    summary="Delete the payloads of all the application's messages (a background task)",
)
async def expunge_all_contents(ctx: CtxDep, app_id: str) -> Response:
    task = await background_tasks.expunge_all_contents(ctx, app_id)
    return JSON(task_out(task), status_code=202)


@router.get("/{msg_id}", response_model=MessageOut, summary="Get a message")
async def get_message(ctx: CtxDep, app_id: str, msg_id: str, with_content: bool = True) -> Response:
    message = await service.get_message(ctx, app_id, msg_id)
    return JSON(message_out(message, with_content=with_content))


@router.delete("/{msg_id}/content", status_code=204, summary="Delete a message's payload")
async def expunge_content(ctx: CtxDep, app_id: str, msg_id: str) -> Response:
    await service.expunge_message_content(ctx, app_id, msg_id)
    return Response(status_code=204)
