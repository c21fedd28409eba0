"""405 answers list in ``Allow`` every method the path takes (RFC 9110, section 15.5.6).

Starlette's router answers 405 from the first route whose path matched, which knows only its
own methods; FastAPI makes one route per method, so ``OPTIONS /api/v1/app`` said ``Allow: GET``.
This handler collects the methods of every route whose path matches.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.routing import Match

from hookd.api.errors import error
from hookd.api.send.serialize import JSON


def allowed_methods(request: Request) -> list[str]:
    """The methods of the routes whose path template matches the request's path, of the most
    specific template when several do (``/request/replay`` over ``/request/{request_id}``)."""
    scope = dict(request.scope)
    by_template: dict[int, set[str]] = {}
    for route in iter_route_contexts(request.app.routes):
        route_methods = getattr(route, "methods", None)
        if not route_methods:
            continue  # mounts and websocket routes
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            by_template.setdefault(len(route.param_convertors), set()).update(route_methods)
    return sorted(by_template[min(by_template)]) if by_template else []


async def _method_not_allowed(request: Request, exc: Exception) -> JSON:
    assert isinstance(exc, HTTPException)
    response = error(405, f"{request.method} is not allowed here")
    methods = allowed_methods(request)
    if methods:
        response.headers["Allow"] = ", ".join(methods)
    elif exc.headers:
        response.headers.update(exc.headers)
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(405, _method_not_allowed)  # before the HTTPException handler
