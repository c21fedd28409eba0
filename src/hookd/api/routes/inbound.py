"""/in/{source}: where providers send webhooks. Public: the provider's signature is the proof."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from hookd.api.errors import error
from hookd.core.providers import Headers, InboundRequest
from hookd.services import ingest as service
from hookd.services.context import Context
from hookd.services.errors import PayloadTooLarge, ServiceError

# Any method; the source's provider decides which it takes (405 otherwise).
INGEST_PATH = re.compile(r"^/in/([^/]+)$")


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes ``limit`` (never read whole first)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body is over the {limit}-byte limit")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _inbound(scope: Scope, public_url: str, body: bytes) -> InboundRequest:
    """The request as providers sign it, read straight from the ASGI scope (no ``Request``)."""
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string", b"").decode("latin-1")
    # The URL as the provider called it (Twilio signs it): the public base, then the path and
    # query exactly as they came over the wire, so proxies in front do not break signatures.
    url = public_url + raw_path.decode("latin-1") + ("?" + query if query else "")
    client = scope.get("client")
    return InboundRequest(
        method=scope["method"],
        url=url,
        path=scope["path"],  # /in/{key}: INGEST_PATH and the key's alphabet need no escaping
        query=tuple(parse_qsl(query, keep_blank_values=True)) if query else (),
        headers=Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]),
        body=body,
        remote_ip=client[0] if client else None,
    )


class IngestDoor:
    """ASGI middleware answering ``/in/{source}`` before FastAPI's routing and dependencies.

    Providers call this path at their rate, not the management API's; it needs nothing FastAPI
    adds (no auth, no validation of a JSON body, no idempotency keys), and skipping that stack
    about halves the CPU a request costs. Other paths go on to the app.
    """

    def __init__(self, app: ASGIApp, ctx: Context) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = INGEST_PATH.match(scope["path"]) if scope["type"] == "http" else None
        if match is None:
            await self.app(scope, receive, send)
            return
        try:
            response = await ingest(self.ctx, match.group(1), scope, receive)
        except ServiceError as exc:
            response = error(exc.status_code, exc.detail, exc.code)
        await response(scope, receive, send)


async def ingest(ctx: Context, source: str, scope: Scope, receive: Receive) -> Response:
    try:
        found = await service.find_source(ctx, source, scope["method"])
    except service.MethodNotAllowed as exc:
        refusal = error(exc.status_code, exc.detail, exc.code)
        refusal.headers["Allow"] = exc.allowed
        return refusal
    body = await _read_body(receive, ctx.settings.max_payload_bytes)
    inbound = _inbound(scope, ctx.settings.effective_public_url, body)
    answer = await service.ingest(ctx, found, inbound)
    response = Response(
        content=answer.body, status_code=answer.status, media_type=answer.content_type
    )
    for name, value in answer.headers:
        response.headers[name] = value
    return response
