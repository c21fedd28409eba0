"""Every error leaves as ``{"code": ..., "detail": ...}``; validation errors list their fields.

422 keeps Svix's ``detail`` list of ``{loc, msg, type}`` (what the SDKs parse), plus ``code``.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookd.api.send.serialize import JSON
from hookd.api.served import route_of
from hookd.services.errors import Invalid, ServiceError, unavailable

log = structlog.get_logger("hookd.api")

CODES = {
    400: "bad_request",
    401: "authentication_failed",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation",
    429: "rate_limited",
}
# What a 503 for an unreachable database asks clients to wait: a PostgreSQL restart or
# fail-over takes seconds, and providers' own retry schedules start about there too.
RETRY_AFTER_SECONDS = 5
# What a 503 for a full disk asks: space comes back when someone frees it, not in seconds.
STORAGE_RETRY_AFTER_SECONDS = 30
# Set on an exception whose 500 the API already answered and logged (``_unexpected``).
ANSWERED = "_hookd_answered"


def error(status: int, detail: Any, code: str | None = None) -> JSON:
    return JSON({"code": code or CODES.get(status, "error"), "detail": detail}, status_code=status)


def _clean(errors: Any) -> list[dict[str, Any]]:
    return [
        {
            "loc": list(e.get("loc", ())),
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]


def service_error_response(exc: ServiceError) -> JSON:
    """A service's refusal as the API answers it (also ``api.send.create_door``'s)."""
    if isinstance(exc, Invalid):
        detail = [{"loc": list(exc.loc), "msg": exc.detail, "type": "value_error"}]
        return error(422, detail, exc.code)
    return error(exc.status_code, exc.detail, exc.code)


async def _service_error(_: Request, exc: Exception) -> JSON:
    assert isinstance(exc, ServiceError)
    return service_error_response(exc)


async def _validation_error(_: Request, exc: Exception) -> JSON:
    assert isinstance(exc, RequestValidationError)
    return error(422, _clean(exc.errors()))


async def _http_error(_: Request, exc: Exception) -> JSON:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    response = error(exc.status_code, detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def unexpected_response(scope: Scope, exc: Exception) -> JSON:
    """The 500 of an error no handler knows, logged (the caller raises it again after
    answering; DatabaseOutage, outermost, ends it there)."""
    # The route's template, never the path (ids; an ingest URL's token).
    log.exception("unhandled error", route=route_of(scope), exc_info=exc)
    setattr(exc, ANSWERED, True)
    return error(500, "internal error; the request was not applied", "internal_error")


async def _unexpected(request: Request, exc: Exception) -> JSON:
    # Starlette raises it again after this answer.
    return unexpected_response(request.scope, exc)


def database_unavailable() -> JSON:
    """503 with ``Retry-After``: nothing was applied or acknowledged, so a retry is safe."""
    response = error(
        503,
        "the database is unavailable; nothing was applied, retry after a few seconds",
        "database_unavailable",
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def storage_unavailable() -> JSON:
    """503 with ``Retry-After`` for a full disk: nothing was applied or acknowledged."""
    response = error(
        503,
        "the server's storage is full; nothing was applied, retry later",
        "storage_unavailable",
    )
    response.headers["Retry-After"] = str(STORAGE_RETRY_AFTER_SECONDS)
    return response


class DatabaseOutage:
    """ASGI middleware, outermost: a database outage on any route becomes a 503, not a 500.

    Outside the ingest door, the idempotency keys and FastAPI's routes alike, so every path
    that touches the database answers the same way. A full disk is a 503 too
    (``storage_unavailable``).

    It also ends an error once its answer was sent whole (Starlette's error middleware raises
    it again after answering 500): an exception reaching uvicorn after a complete answer makes
    it close the connection, and a keep-alive client's next request on it would be reset.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = complete = False

        async def tracked(message: Message) -> None:
            nonlocal started, complete
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                complete = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if complete:
                if not getattr(exc, ANSWERED, False):
                    log.exception("error after the answer", route=route_of(scope), exc_info=exc)
                return
            if started:
                raise  # half an answer: only closing the connection ends it
            trouble = unavailable(exc)
            if trouble == "storage_full":
                log.error("storage full", route=route_of(scope), error=str(exc).split("\n")[0])
                await storage_unavailable()(scope, receive, send)
            elif trouble == "outage":
                log.warning(
                    "database unavailable", route=route_of(scope), error=str(exc).split("\n")[0]
                )
                await database_unavailable()(scope, receive, send)
            else:
                raise


def install(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
