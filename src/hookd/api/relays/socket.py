"""``GET /api/v1/relay/{relay_id}/listen``: the WebSocket ``hookd listen`` holds (docs/listen.md).

Starlette's ``WebSocket`` on uvicorn's WebSocket protocol (the ``websockets`` library). The
socket is accepted first, then refused with a close code when it may not listen, so the client
reads why: 4401 no or an invalid token, 4403 not allowed, 4404 no such relay, 4400 a frame that
is not the protocol's. Who may listen: full admins, and an application's principal with
``ManageEndpoint`` on a relay attached to its application (``/api/v1/app/{app_id}/relay``).
Frames are ``core.relay_frames``; the socket's requests come from the delivery worker through
``engine.relay.RelayHub``.
"""

from __future__ import annotations

import asyncio

import structlog
from starlette.websockets import WebSocket, WebSocketDisconnect

from hookd.api.auth import ApiKeys, principal_of
from hookd.api.relays.routes import LISTEN_PATH, relay_out
from hookd.core.access import Capability, Principal, allows, app_rule
from hookd.core.domain import Source
from hookd.core.relay_frames import (
    SUBPROTOCOL,
    FrameError,
    Ready,
    RelayedAnswer,
    RelayFailure,
    decode,
    encode,
)
from hookd.engine.relay import RelayHub
from hookd.services.context import Context
from hookd.services.errors import NotFound
from hookd.services.relays import relays as service

log = structlog.get_logger("hookd.relay")

UNAUTHENTICATED = 4401
FORBIDDEN = 4403
NOT_FOUND = 4404
BAD_FRAME = 4400
LISTEN_RULE = app_rule(Capability.MANAGE_ENDPOINT)


def _reason(text: str) -> str:
    """A close reason: at most 123 bytes of UTF-8 (RFC 6455), cut on a character."""
    return text.encode("utf-8")[:123].decode("utf-8", "ignore")


async def _may_listen(ctx: Context, principal: Principal, relay: Source) -> bool:
    if principal.full_admin:
        return True
    if principal.app_id is None or principal.expired(ctx.clock()):
        return False
    if not allows(principal, LISTEN_RULE, "POST"):
        return False
    return await service.attached_to(ctx, relay, principal.app_id)


async def listen(websocket: WebSocket) -> None:
    """One listener: authenticated, registered with the hub, answers read until it closes."""
    state = websocket.app.state
    ctx: Context = state.ctx
    hub: RelayHub = state.relay_hub
    keys: ApiKeys = state.api_keys
    offered = websocket.scope.get("subprotocols") or []
    await websocket.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    principal = await principal_of(websocket.scope, keys)
    if principal is None:
        await websocket.close(UNAUTHENTICATED, "missing or invalid token (Bearer)")
        return
    try:
        relay = await service.get_relay(ctx, websocket.path_params["relay_id"])
    except NotFound as exc:
        await websocket.close(NOT_FOUND, _reason(exc.detail))
        return
    if not await _may_listen(ctx, principal, relay):
        await websocket.close(FORBIDDEN, "this token may not listen on this relay")
        return
    sending = asyncio.Lock()

    async def send_text(text: str) -> None:
        async with sending:  # one frame at a time: deliveries run concurrently
            await websocket.send_text(text)

    listener = hub.connect(relay.id, send_text)
    try:
        out = relay_out(ctx, relay, hub)
        await send_text(encode(Ready(relay.id, out["url"])))
        waiting = await service.listener_arrived(ctx, relay)
        log.info("relay listener connected", relay=relay.id, waiting=waiting)
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                frame = decode(message.get("text") or message.get("bytes") or b"")
            except FrameError as exc:
                await websocket.close(BAD_FRAME, _reason(str(exc)))
                return
            if isinstance(frame, RelayedAnswer | RelayFailure):
                listener.answered(frame)
    except WebSocketDisconnect:
        pass
    finally:
        hub.disconnect(listener)
        log.info("relay listener disconnected", relay=relay.id)


__all__ = ["LISTEN_PATH", "listen"]
