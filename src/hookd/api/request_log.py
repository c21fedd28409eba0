"""One log line per HTTP request, and the request id every answer carries (``X-Request-Id``).

``RequestLog`` wraps the server (``api.app.create_server``), in front of the ingest door and
FastAPI (inside ``api.served`` and ``api.traced``, which see what it answers), so every request
the application answers is logged once, whoever answered it: a
route, an error handler, the body limit's 413, the ingest door. The line (``request served``)
names the method, the route's path template (``api.served.route_of``: never the path, which
holds ids and an ingest URL's token), the status, the time taken, the request id, the
principal (``"admin"``, an API key's or a portal token's id: never a token) and the client's
address.

The request id is the client's ``X-Request-Id`` when well-formed (1 to 128 characters of
``A-Z a-z 0-9 . _ : -``), else a new one (16 random URL-safe characters); a malformed one is
never echoed. It is set in ``hookd.telemetry.REQUEST_ID`` while the request is served, so every
line logged meanwhile carries it (``observability.logs``) and a message the request creates
keeps it (the worker's attempt lines name it). Health probes answered by the HTTP protocol
before the application (``api.connections``) and by the health port's thread carry an id too,
and are not logged.
"""

from __future__ import annotations

import base64
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hookd.api.served import route_of
from hookd.telemetry import REQUEST_ID

log = structlog.get_logger("hookd.api")

HEADER = b"x-request-id"
WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_WELL_FORMED_BYTES = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
# Where a request's record is in its ASGI scope (copies of the scope share the record).
RECORD = "hookd.request"
INTERNAL_ERROR = orjson.dumps(
    {"code": "internal_error", "detail": "internal error; the request was not applied"}
)


def new_request_id() -> str:
    """A new request id: 16 URL-safe characters (96 random bits)."""
    return base64.urlsafe_b64encode(os.urandom(12)).decode("ascii")


def request_id_of(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The request's ``X-Request-Id`` (header names lower-cased, as ASGI gives them) when
    well-formed, else a new one."""
    for name, value in headers:
        if name == HEADER:
            if _WELL_FORMED_BYTES.fullmatch(value):
                return value.decode("ascii")
            break
    return new_request_id()


def request_id_from(value: str | None) -> str:
    """``value`` (an ``X-Request-Id``) when well-formed, else a new id."""
    if value is not None and WELL_FORMED.fullmatch(value):
        return value
    return new_request_id()


@dataclass(slots=True)
class RequestRecord:
    """What the access line says beyond the ASGI scope; filled in while the request is served."""

    request_id: str
    principal: str | None = None  # who authenticated (api.auth), never a token
    source_id: str | None = None  # the source an /in/ request reached


def record_of(scope: Scope) -> RequestRecord | None:
    """The request's record (None when the server is not wrapped, as in some tests)."""
    record: RequestRecord | None = scope.get(RECORD)
    return record


class RequestLog:
    """ASGI middleware: the request id on every answer and in the context, one line each."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        request_id = request_id_of(scope["headers"])
        record = RequestRecord(request_id)
        scope[RECORD] = record
        header = (HEADER, request_id.encode("ascii"))
        status = 0  # nothing answered: the client left, or the server failed before answering

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        token = REQUEST_ID.set(request_id)
        try:
            await self.app(scope, receive, sending)
        except Exception:
            if status:
                raise  # half an answer: only closing the connection ends it
            # What reaches here got no answer from the error handlers inside (they answer
            # everything they can): answered here, so it carries the request id too.
            log.exception("unhandled error", route=route_of(scope))
            await sending(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(INTERNAL_ERROR)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": INTERNAL_ERROR})
        finally:
            client = scope.get("client")
            (log.warning if status >= 500 else log.info)(
                "request served",
                method=scope["method"],
                route=route_of(scope),
                status=status,
                duration_ms=round((time.monotonic() - started) * 1000, 1),
                request_id=request_id,
                principal=record.principal,
                client=client[0] if client else None,
                **({"source_id": record.source_id} if record.source_id else {}),
            )
            REQUEST_ID.reset(token)
