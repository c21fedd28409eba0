"""The message create's common case, answered in front of FastAPI.

Most requests hookd serves are message creates by a full admin (the admin token, an admin API
key) with a plain JSON body: the svix SDK's ``POST /api/v1/app/{app_id}/msg``. Profiles of
that request showed the layers between the server and the route (FastAPI's and Starlette's
application, error and exception middlewares, the exit stack, routing, then hookd's NUL guard,
body limit and idempotency middlewares) costing about as much CPU as the create itself.
:class:`CreateDoor` sits beside the ingest door, inside the request log, the metrics and the
outage handling, and answers that case itself with the same parts the route uses: the
principal (``api.auth.principal_of``), the body read under the same limit, the plain body
(``fast_create.plain_input``), the idempotency key scoped as ``api.idempotency`` scopes it and
``create_response``. A service error is rendered as the API's handler renders it, an unexpected
one as its 500.

Anything else goes to the whole app, body and all, untouched: another principal (its rule and
capabilities are the app's to check), no ``Content-Length`` or one over the limit, a NUL in the
path or query, another content type, a body that does not validate, an odd query flag. So every
refusal is the app's, word for word, and the route in the OpenAPI document stays the FastAPI
one.
"""

from __future__ import annotations

import re

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookd.api.auth import ApiKeys, principal_of
from hookd.api.errors import service_error_response, unexpected_response
from hookd.api.idempotency import CREATE_KEY
from hookd.api.nul import has_nul_in_request
from hookd.api.send.fast_create import FastCreate, plain_input
from hookd.api.send.messages import create_response
from hookd.services import idempotency as keys
from hookd.services.context import Context
from hookd.services.errors import ServiceError, unavailable

# ``/api/v1/app/{app_id}/msg`` as Starlette matches it (a path parameter: no slash).
CREATE_PATH = re.compile(r"/api/v1/app/([^/]+)/msg")
# The route template the request log, the metrics and the traces report.
ROUTE = FastCreate()


class CreateDoor:
    """ASGI: plain message creates by a full admin; everything else to ``app``."""

    def __init__(self, app: ASGIApp, ctx: Context, api_keys: ApiKeys, limit: int) -> None:
        self.app = app
        self.ctx = ctx
        self.api_keys = api_keys
        self.limit = limit  # the body limit of the app's BodyLimit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        matched = CREATE_PATH.fullmatch(scope["path"])
        if matched is None or has_nul_in_request(scope) or not self._declared_within(scope):
            await self.app(scope, receive, send)
            return
        principal = await principal_of(scope, self.api_keys)
        if principal is None or not principal.full_admin:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:  # the client left before sending its body: the app's answer to it
            await Response(status_code=408)(scope, receive, send)
            return
        parsed = None if len(body) > self.limit else plain_input(scope, body)
        if parsed is None:
            await self.app(scope, _replay(body, receive), send)
            return
        message_in, with_content, validate = parsed
        scope.setdefault("route", ROUTE)
        scope["path_params"] = {"app_id": matched.group(1)}
        scoped = None
        for name, value in scope["headers"]:
            if name == b"idempotency-key":
                if value:  # as api.idempotency scopes it
                    scoped = keys.scoped_key(principal.name, "POST", scope["path"], value)
                    scope[CREATE_KEY] = scoped
                break
        try:
            response = await create_response(
                self.ctx,
                matched.group(1),
                message_in,
                with_content=with_content,
                validate=validate,
                idempotency_key=scoped,
                request_fingerprint=(
                    keys.fingerprint(scope.get("query_string", b""), body) if scoped else None
                ),
            )
        except ServiceError as exc:
            response = service_error_response(exc)
        except Exception as exc:
            if unavailable(exc) is not None:
                raise  # the outage handling outside answers 503
            await unexpected_response(scope, exc)(scope, receive, send)
            raise
        await response(scope, receive, send)

    def _declared_within(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"content-length":
                return value.isdigit() and int(value) <= self.limit
        return False  # chunked: the app's body limit counts it


async def _read_body(receive: Receive) -> bytes | None:
    """The whole body, or None when the client disconnected first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` for the app: the body read here, then the client as it goes on."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
