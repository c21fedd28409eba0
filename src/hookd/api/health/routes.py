"""Health: liveness (touches nothing) and readiness (the database answers), unauthenticated.

``/api/v1/health`` (what the svix SDK's ``health.get`` calls) and ``/api/v1/health/ready`` (alias
``/readyz``) say whether the database answered the last check; ``/api/v1/health/live`` (alias
``/livez``) says the process serves HTTP. None of them queries the database on the request:
``Readiness`` checks it once a second in the background (a ``SELECT 1`` that must answer within
5 s), so a probe costs no connection from a pool busy with creates and no turn behind them.
The server's HTTP protocol (``api/connections``) answers GET and HEAD on these paths as soon as
the request head is parsed, before any ASGI task; the routes below answer what reaches the app
(another method, a pipelined request) with the same state and are what the OpenAPI document
shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Protocol

import orjson
import structlog
from fastapi import APIRouter, Request, Response

from hookd.api.send.models import HealthOut

log = structlog.get_logger("hookd.api")
router = APIRouter(tags=["Health"])

CHECK_EVERY_SECONDS = 1.0
CHECK_TIMEOUT_SECONDS = 5.0
# The health port's thread calls the event loop dead (liveness 503) when its heartbeat, every
# half second, has not come for this long: a loop that does not turn for 10 s serves nobody.
BEAT_EVERY_SECONDS = 0.5
LOOP_STALLED_SECONDS = 10.0

LIVE = orjson.dumps({"status": "ok"})
READY = orjson.dumps({"status": "ok", "database": "ok"})
NOT_READY = orjson.dumps({"status": "error", "database": "unreachable"})
LOOP_STALLED = orjson.dumps({"status": "error", "detail": "the event loop has stalled"})
LIVE_PATHS = frozenset({"/api/v1/health/live", "/livez"})
READY_PATHS = frozenset({"/api/v1/health", "/api/v1/health/ready", "/readyz"})


class Database(Protocol):
    """What the check needs of ``store.db.Database``: the API does not query the store."""

    async def ping(self) -> None: ...


class Readiness:
    """Whether the database answered the last check (one ``SELECT 1`` a second), and when the
    event loop last turned (for the health port's thread, ``api/health_port``)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.ok = False
        self.beat = time.monotonic()

    def answer(self, path: str, *, off_loop: bool = False) -> tuple[int, bytes] | None:
        """The status and JSON body for a health path; None for any other path. ``off_loop``:
        asked from another thread, which must also see the event loop turning."""
        live = not off_loop or time.monotonic() - self.beat < LOOP_STALLED_SECONDS
        if path in LIVE_PATHS:
            return (200, LIVE) if live else (503, LOOP_STALLED)
        if path in READY_PATHS:
            return (200, READY) if self.ok and live else (503, NOT_READY)
        return None

    async def check(self) -> bool:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                await self.db.ping()
        except Exception as exc:
            if self.ok:
                log.warning("database check failed", error=type(exc).__name__)
            return False
        return True

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Check now, then every second until the context ends."""
        self.ok = await self.check()
        tasks = [
            asyncio.create_task(self._every_second(), name="hookd readiness"),
            asyncio.create_task(self._heartbeat(), name="hookd heartbeat"),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _heartbeat(self) -> None:
        while True:
            self.beat = time.monotonic()
            await asyncio.sleep(BEAT_EVERY_SECONDS)

    async def _every_second(self) -> None:
        while True:
            await asyncio.sleep(CHECK_EVERY_SECONDS)
            self.ok = await self.check()


def _answer(request: Request) -> Response:
    readiness: Readiness = request.app.state.readiness
    answer = readiness.answer(request.url.path)
    assert answer is not None
    status, body = answer
    return Response(body, status_code=status, media_type="application/json")


@router.get(
    "/api/v1/health",
    response_model=HealthOut,
    summary="Health",
    responses={503: {"description": "the database did not answer its last check"}},
)
@router.head("/api/v1/health", include_in_schema=False)
@router.get(
    "/api/v1/health/ready",
    response_model=HealthOut,
    summary="Readiness: the database answered its last check (within the last second or so)",
    responses={503: {"description": "the database did not answer its last check"}},
)
@router.head("/api/v1/health/ready", include_in_schema=False)
@router.get("/readyz", include_in_schema=False)
@router.head("/readyz", include_in_schema=False)
async def ready(request: Request) -> Response:
    return _answer(request)


@router.get(
    "/api/v1/health/live",
    summary="Liveness: the process serves HTTP (touches nothing else)",
)
@router.head("/api/v1/health/live", include_in_schema=False)
@router.get("/livez", include_in_schema=False)
@router.head("/livez", include_in_schema=False)
async def live(request: Request) -> Response:
    return _answer(request)
