"""/in/{source}: where providers send webhooks. Public: the provider's signature is the proof."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from hookd.api.errors import error
from hookd.core.providers import Headers, InboundRequest
from hookd.services import ingest as service
from hookd.services.context import Context
from hookd.services.errors import PayloadTooLarge, ServiceError

# Any method; the source's provider decides which it takes (405 otherwise).
INGEST_PATH = re.compile(r"^/in/([^/]+)$")


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes ``limit`` (never read whole first)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _inbound(request: Request, public_url: str, body: bytes) -> InboundRequest:
    scope = request.scope
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    # The URL as the provider called it (Twilio signs it): the public base, then the path and
    # query exactly as they came over the wire, so proxies in front do not break signatures.
    path = raw_path.decode("latin-1")
    url = public_url + path + ("?" + query.decode("latin-1") if query else "")
    headers = Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw)
    return InboundRequest(
        method=request.method,
        url=url,
        path=request.url.path,
        query=tuple(request.query_params.multi_items()),
        headers=headers,
        body=body,
        remote_ip=request.client.host if request.client else None,
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
        request = Request(scope, receive)
        try:
            response = await ingest(self.ctx, match.group(1), request)
        except ServiceError as exc:
            response = error(exc.status_code, exc.detail, exc.code)
        await response(scope, receive, send)


async def ingest(ctx: Context, source: str, request: Request) -> Response:
    try:
        found = await service.find_source(ctx, source, request.method)
    except service.MethodNotAllowed as exc:
        refusal = error(exc.status_code, exc.detail, exc.code)
        refusal.headers["Allow"] = exc.allowed
        return refusal
    body = await _read_body(request, ctx.settings.max_payload_bytes)
    inbound = _inbound(request, ctx.settings.effective_public_url, body)
    answer = await service.ingest(ctx, found, inbound)
    response = Response(
        content=answer.body, status_code=answer.status, media_type=answer.content_type
    )
    for name, value in answer.headers:
        response.headers[name] = value
    return response
