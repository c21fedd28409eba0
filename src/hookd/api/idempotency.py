"""``Idempotency-Key`` on POST, the ASGI side: the protocol itself (12 h, 2xx only, scope,
fingerprint, waiting for a running request) is ``services/idempotency.py``.

The key is scoped by the authenticated caller (the name of the request's principal,
``api.auth.principal_of``: every form of the ``Authorization`` header authentication accepts is
the same caller, and each API key and portal token is a caller of its own), method and path. This
middleware reads the body for the fingerprint, asks the service for a decision, and runs the route
(capturing its answer for the service to keep), replays the kept answer, or answers 422 or 409.

Routes that claim their key in their own transaction (the message create, the hot route) only
get their scoped key here (``scope[CREATE_KEY]``): the route fingerprints the body it reads
anyway, and the create's transaction claims and answers the key (``services/create_keys.py``).
Routes whose answer carries a new token (``unkept``) are never kept: a token is stored only as
its digest, so a repeat of such a request makes another token.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookd.api.auth import ApiKeys, principal_of
from hookd.api.errors import error
from hookd.services import idempotency as keys
from hookd.services.context import Context
from hookd.services.create_keys import KeyMismatch

# Where a route that claims its own key (the message create) finds its scoped key.
CREATE_KEY = "hookd.idempotency_key"


def mismatch_response() -> Response:
    """The 422 of a key reused for another request, as the API's error handler renders it."""
    refused = KeyMismatch()
    detail = [{"loc": list(refused.loc), "msg": refused.detail, "type": "value_error"}]
    return error(422, detail, refused.code)


class Idempotency:
    """ASGI middleware replaying the stored response of a repeated ``Idempotency-Key``."""

    def __init__(
        self,
        app: ASGIApp,
        ctx: Context,
        api_keys: ApiKeys,
        own_keys: Iterable[str] = (),
        unkept: Iterable[str] = (),
    ) -> None:
        """``own_keys``: the path templates of the routes that claim their key themselves;
        ``unkept``: those of the routes whose answers are never kept."""
        self.app = app
        self.ctx = ctx
        self.api_keys = api_keys
        self.own_keys = tuple(compile_path(path)[0] for path in own_keys)
        self.unkept = tuple(compile_path(path)[0] for path in unkept)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = caller = None
        if scope["type"] == "http" and scope["method"] == "POST":
            headers = dict(scope["headers"])
            key = headers.get(b"idempotency-key")
            # Unauthenticated requests never reach the key store; the route answers them 401.
            if key and not any(path.fullmatch(scope["path"]) for path in self.unkept):
                principal = await principal_of(scope, self.api_keys)
                caller = None if principal is None else principal.name
        if not key or caller is None:
            await self.app(scope, receive, send)
            return
        scoped = keys.scoped_key(caller, scope["method"], scope["path"], key)
        if any(path.fullmatch(scope["path"]) for path in self.own_keys):
            # In the scope itself, not a copy: the wrappers outside read what routing adds to
            # it (the route template of api.served, api.traced and api.request_log).
            scope[CREATE_KEY] = scoped
            await self.app(scope, receive, send)
            return
        body, receive = await _read_body(receive)
        if body is None:
            return  # the client went away before sending its body: nothing to answer
        request_fingerprint = keys.fingerprint(scope.get("query_string", b""), body)
        decision = await keys.claim(self.ctx.db, self.ctx.clock, scoped, request_fingerprint)
        if isinstance(decision, keys.Claimed):
            await self._run_and_keep(scoped, scope, receive, send)
        elif isinstance(decision, keys.Mismatch):
            await mismatch_response()(scope, receive, send)
        elif isinstance(decision, keys.Replay):
            answer = replayed(decision.status_code, decision.content_type, decision.body)
            await answer(scope, receive, send)
        else:
            body = orjson.dumps({"code": "conflict", "detail": keys.STILL_RUNNING})
            await Response(body, 409, media_type="application/json")(scope, receive, send)

    async def _run_and_keep(self, key: str, scope: Scope, receive: Receive, send: Send) -> None:
        status = 500
        content_type = "application/json"
        chunks: list[bytes] = []

        async def capturing_send(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", ()):
                    if name.lower() == b"content-type":
                        content_type = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capturing_send)
        finally:
            await keys.keep(self.ctx.db, key, status, content_type, b"".join(chunks))


async def _read_body(receive: Receive) -> tuple[bytes | None, Receive]:
    """The whole request body (None when the client disconnected first) and a ``receive`` that
    hands it to the app again, then waits on the client as the original does."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None, receive
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed_body = False

    async def replay() -> Message:
        nonlocal replayed_body
        if replayed_body:
            return await receive()
        replayed_body = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


def replayed(status: int, content_type: str, body: bytes) -> Response:
    """The kept answer of a key, sent again and marked as such."""
    return Response(bytes(body), status, {"idempotent-replayed": "true"}, media_type=content_type)
