"""The message create, the API's hot route, without FastAPI's per-request machinery.

Profiles at 500 creates/s showed FastAPI's route matching over every route and its dependency
solving as the larger part of a create's CPU. :func:`route` is a plain Starlette route placed
first in the app: it authenticates and authorizes with the same checks (``api.auth``, the
route's rule in ``api.access.rules``), parses the body with pydantic's JSON
parser into the same ``MessageIn`` and calls the same ``create_response``. Anything it does not
handle plainly (a body that does not validate, another content type, an odd ``with_content``) is
handed, body and all, to the FastAPI route, so every error answer stays exactly what the
FastAPI route gives. The FastAPI route also stays the one in the OpenAPI document.
"""

from __future__ import annotations

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from hookd.api.access.rules import rule_for
from hookd.api.auth import authenticated, check
from hookd.api.idempotency import CREATE_KEY
from hookd.api.send.messages import create_response
from hookd.api.send.messages import router as messages_router
from hookd.api.send.models import MessageIn
from hookd.services.context import Context
from hookd.services.idempotency import fingerprint

PATH = "/api/v1/app/{app_id}/msg"
RULE = rule_for("POST", PATH)
TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


class FastCreate:
    """ASGI endpoint for ``POST /api/v1/app/{app_id}/msg``."""

    path = PATH  # the route template ``api.served.route_of`` reads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # FastAPI's router names only its own routes (``scope["route"]``) for the wrappers
        # that report the route template (``api.served``, ``api.traced``, ``api.request_log``).
        scope.setdefault("route", self)
        request = Request(scope, receive)
        ctx: Context = request.app.state.ctx
        app_id = scope["path_params"]["app_id"]
        # Before anything else, also before the fallback (the bare router: no dependencies).
        principal = await authenticated(scope, request.app.state.api_keys)
        if not principal.full_admin:
            await check(ctx, principal, RULE, "POST", app_id)
        body = await request.body()
        parsed = plain_input(scope, body)
        if parsed is None:
            await messages_router(scope, _replay(body), send)
            return
        message_in, with_content, validate = parsed
        scoped = scope.get(CREATE_KEY)
        response = await create_response(
            ctx,
            app_id,
            message_in,
            with_content=with_content,
            validate=validate,
            idempotency_key=scoped,
            request_fingerprint=(
                fingerprint(scope.get("query_string", b""), body) if scoped else None
            ),
        )
        await response(scope, receive, send)


def plain_input(scope: Scope, body: bytes) -> tuple[MessageIn, bool, bool | None] | None:
    """The body, ``with_content`` and ``validate`` when all are plainly valid, else ``None``
    (the FastAPI route answers the request, with its errors)."""
    content_type = ""
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value.decode("latin-1")
            break
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        return None
    query = scope.get("query_string", b"")
    try:
        params = QueryParams(query) if query else None
        with_content = _flag(params.get("with_content") if params else None)
        validate = _flag(params.get("validate") if params else None)
        message_in = MessageIn.model_validate_json(body)
    except ValueError:  # pydantic's ValidationError is one too
        return None
    return message_in, True if with_content is None else with_content, validate


def _flag(raw: str | None) -> bool | None:
    """A boolean query flag as FastAPI reads it, ``None`` when absent.

    Raises ``ValueError`` for a value FastAPI would refuse: its route answers with the 422.
    """
    if raw is None:
        return None
    if raw.lower() in TRUE:
        return True
    if raw.lower() in FALSE:
        return False
    raise ValueError(raw)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def route() -> Route:
    return Route(PATH, FastCreate(), methods=["POST"], include_in_schema=False)
