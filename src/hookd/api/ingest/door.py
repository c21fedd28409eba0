"""/in/{source}: where providers send webhooks. Public: the provider's signature is the proof.

A request bin's capture URL is an ingest URL too (``/in/{token}`` and any path under it): it
takes any method, stores the request whole and answers as the bin is configured. So is a relay's
(``/relay/{token}`` and any path under it, docs/listen.md): it stores the request, then answers
with its listener's local answer, or 202 when no listener is connected to this process."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl

import orjson
import structlog
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from hookd.api.errors import error
from hookd.api.request_log import record_of
from hookd.api.served import INGEST_ROUTE
from hookd.core.domain import Source
from hookd.core.providers import Headers, InboundRequest
from hookd.core.providers.relay import PROVIDER as RELAY_PROVIDER
from hookd.core.providers.relay import RELAY
from hookd.core.providers.request_bin import BIN
from hookd.core.relay_frames import RelayedAnswer
from hookd.engine.relay import RelayHub
from hookd.services.bins import capture as bin_capture
from hookd.services.context import Context
from hookd.services.errors import PayloadTooLarge, ServiceError, unavailable
from hookd.services.ingest import receive as service
from hookd.services.relays import receive as relay_receive

log = structlog.get_logger("hookd.api")

# Any method; the source's provider decides which it takes (405 otherwise). Paths under the
# URL (group 2) are a request bin's only (docs/bins.md).
INGEST_PATH = re.compile(r"^/in/([^/]+)(/.*)?$", re.DOTALL)
INGEST_PREFIX = "/in/"
# A relay's URL (hookd listen): any method, any path under it.
RELAY_PATH = re.compile(r"^/relay/([^/]+)(/.*)?$", re.DOTALL)
RELAY_PREFIX = "/relay/"
# Framing is this server's own: the local answer's would contradict the body sent here.
NOT_ANSWERED = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "trailer"}
)


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
        # /in/{key}: INGEST_PATH and the key's alphabet need no escaping (a bin's sub-path is
        # kept as decoded; its raw form is in ``url``)
        path=scope["path"],
        query=tuple(parse_qsl(query, keep_blank_values=True)) if query else (),
        # ASGI servers send header names lower-cased, as the protocol requires.
        headers=Headers.lowercased(
            tuple([(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]])
        ),
        body=body,
        remote_ip=client[0] if client else None,
    )


async def _send(
    send: Send,
    status: int,
    content_type: str | None,
    body: bytes,
    headers: Iterable[tuple[str, str]] = (),
) -> None:
    """The answer as two ASGI messages, with the headers Starlette's ``Response`` would set."""
    raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    if not (status < 200 or status in (204, 304)):
        raw.append((b"content-length", str(len(body)).encode()))
    if content_type is not None:
        if content_type.startswith("text/") and "charset=" not in content_type.lower():
            content_type += "; charset=utf-8"
        raw.append((b"content-type", content_type.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class IngestDoor:
    """The ASGI application uvicorn serves: ``/in/{source}`` here, everything else to ``app``.

    Providers call this path at their rate, not the management API's; it needs nothing FastAPI
    adds (no auth, no validation of a JSON body, no idempotency keys, no telemetry hooks), so it
    is dispatched before FastAPI sees the request. Its errors keep the API's shape
    (``{"code", "detail"}``, 500 ``internal_error`` for the unexpected).
    """

    def __init__(self, app: ASGIApp, ctx: Context, relays: RelayHub | None = None) -> None:
        self.app = app
        self.ctx = ctx
        self.relays = relays
        self.public_url = ctx.settings.effective_public_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith((INGEST_PREFIX, RELAY_PREFIX)):
            await self.app(scope, receive, send)
            return
        relay = path.startswith(RELAY_PREFIX)
        match = (RELAY_PATH if relay else INGEST_PATH).match(path)
        if match is None:  # /in/a/b and the like: FastAPI's 404
            await self.app(scope, receive, send)
            return
        try:
            sub_path = match.group(2) is not None
            await self.ingest(match.group(1), sub_path, scope, receive, send, relay=relay)
        except ServiceError as exc:
            response = error(exc.status_code, exc.detail, exc.code)
            if isinstance(exc, service.MethodNotAllowed):
                response.headers["Allow"] = exc.allowed
            await response(scope, receive, send)
        except ClientDisconnect:
            return  # nobody is left to answer; a stored request stays stored
        except Exception as exc:  # the API's answer to the unexpected, as its handler gives it
            if unavailable(exc) is not None:
                raise  # errors.DatabaseOutage, around the whole server, answers 503
            # Never the path: it holds the source's ingest token.
            log.exception("unhandled error", route=INGEST_ROUTE, exc_info=exc)
            response = error(500, "internal error; the request was not applied", "internal_error")
            await response(scope, receive, send)

    async def ingest(
        self,
        key: str,
        sub_path: bool,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        relay: bool = False,
    ) -> None:
        ctx = self.ctx
        now = ctx.clock()
        found = await service.find_source(
            ctx, key, scope["method"], now, sub_path=sub_path, relay=relay
        )
        record = record_of(scope)
        if record is not None:
            record.source_id = found.id  # the request's log line names the source, not its token
        if found.provider == BIN:
            await self.capture(found, scope, receive, send)
            return
        if found.provider == RELAY:
            await self.relay(found, scope, receive, send)
            return
        body = await _read_body(receive, ctx.settings.max_payload_bytes)
        answer = await service.ingest(ctx, found, _inbound(scope, self.public_url, body), now)
        await _send(send, answer.status, answer.content_type, answer.body, answer.headers)

    async def capture(self, found: Source, scope: Scope, receive: Receive, send: Send) -> None:
        """A request bin's request: stored whole, then answered as the bin says, after its
        delay (slept here, after the commit: the loop goes on, no transaction waits)."""
        ctx = self.ctx
        body = await _read_body(receive, ctx.settings.bin_max_body_bytes)
        request = _inbound(scope, self.public_url, body)
        answer = await bin_capture.capture(ctx, found, request, ctx.clock())
        if answer.delay_ms:
            await asyncio.sleep(answer.delay_ms / 1000)
        await _send(send, answer.status, None, answer.body, answer.headers)

    async def relay(self, found: Source, scope: Scope, receive: Receive, send: Send) -> None:
        """A relay's request: stored (a delivery to its listeners), then answered with the
        local answer a listener of this process returns, 504 past HOOKD_RELAY_ANSWER_TIMEOUT,
        502 when the listener could not reach its local URL, 202 with no listener here."""
        ctx, hub = self.ctx, self.relays
        body = await _read_body(receive, ctx.settings.max_payload_bytes)
        request = _inbound(scope, self.public_url, body)
        record = relay_receive.record_for(found, request, ctx.clock())
        # Expected before the commit: the worker may deliver as soon as it is made.
        waiting = hub.expect(record.id) if hub is not None and hub.connected(found.id) else None
        try:
            await relay_receive.store(ctx, found, record)
            if waiting is None or hub is None:
                kept = RELAY_PROVIDER.default_response
                await _send(send, kept.status, kept.content_type, kept.body)
                return
            try:
                async with asyncio.timeout(ctx.settings.relay_answer_timeout):
                    reply = await waiting
            except TimeoutError:
                detail = "the listener did not answer in time; the request is kept and retried"
                await _json_error(send, 504, "listener_timeout", detail)
                return
        finally:
            if hub is not None:
                hub.forget(record.id)
        if isinstance(reply, RelayedAnswer):
            headers = [(n, v) for n, v in reply.headers if n.lower() not in NOT_ANSWERED]
            await _send(send, reply.status, None, reply.body, headers)
            return
        detail = f"the listener got no answer from its local URL: {reply.detail}"
        await _json_error(send, 502, "listener_failed", detail)


async def _json_error(send: Send, status: int, code: str, detail: str) -> None:
    await _send(send, status, "application/json", orjson.dumps({"code": code, "detail": detail}))
