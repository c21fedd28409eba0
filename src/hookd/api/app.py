"""The FastAPI application: routes, error shapes, middlewares, and the worker's lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import structlog
from fastapi import Depends, FastAPI, Request, Response
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp

from hookd import __version__, gc_tuning
from hookd.api import allow, docs, errors, metrics, openapi
from hookd.api.access import api_keys as access_keys
from hookd.api.access import portal as access_portal
from hookd.api.alerts import channels as alert_channels
from hookd.api.alerts import routes as alerts
from hookd.api.auth import ApiKeys, authorize, require_admin
from hookd.api.bins import routes as bins
from hookd.api.body_limit import BodyLimit
from hookd.api.calls import routes as calls
from hookd.api.console import site as console
from hookd.api.health import routes as health
from hookd.api.health.port import health_port
from hookd.api.idempotency import Idempotency
from hookd.api.ingest import door
from hookd.api.ingest import endpoints as ingest_endpoints
from hookd.api.ingest import requests as ingest_requests
from hookd.api.ingest import sources as ingest_sources
from hookd.api.nul import NulGuard
from hookd.api.operational import endpoints as operational_endpoints
from hookd.api.relays import routes as relay_routes
from hookd.api.relays import socket as relay_socket
from hookd.api.request_log import RequestLog
from hookd.api.send import (
    applications,
    attempts,
    background_tasks,
    endpoints,
    event_types,
    fast_create,
    messages,
    payloads,
)
from hookd.api.send.create_door import CreateDoor
from hookd.api.served import Served
from hookd.api.statistics import routes as statistics
from hookd.api.traced import Traced
from hookd.engine.calls import call_sender
from hookd.engine.replay import replay_sender
from hookd.engine.runtime import Runtime
from hookd.observability import metrics as metrics_port
from hookd.telemetry import NO_TELEMETRY

log = structlog.get_logger("hookd")

# Room for the JSON around a payload of the maximum size.
ENVELOPE_BYTES = 64 * 1024


async def _client_gone(_: Request, __: Exception) -> Response:
    """The client left (or was dropped for a stalled body) while its body was read: nobody
    reads an answer, and it is no error of hookd's to log."""
    return Response(status_code=408)


def create_app(
    runtime: Runtime,
    api_keys: ApiKeys,
    *,
    run_worker: bool = True,
    readiness: health.Readiness | None = None,
) -> FastAPI:
    """Build the API on ``runtime``; with ``run_worker`` the delivery worker runs on the same
    event loop.

    ``readiness`` (the health routes' database check, shared with the server's protocol, which
    answers probes before the app) is checked every second while the app runs."""
    ctx = runtime.ctx
    readiness = readiness or health.Readiness(ctx.db)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            # Metrics are served (and the delivery processes' files kept) until the end.
            await stack.enter_async_context(metrics_port.running(runtime))
            # The worker, or only the wake-ups of other processes' workers; the sandbox (also
            # where endpoints' transformations are checked when saved) closes with it.
            await stack.enter_async_context(runtime.running(deliver=run_worker))
            # Calls get their own sender: they never wait behind queued deliveries.
            app.state.call_sender = await stack.enter_async_context(
                call_sender(ctx.settings, ctx.tracing)
            )
            # Request bins' replays to a URL (api/bins), through the same SSRF guard.
            app.state.replay_sender = await stack.enter_async_context(replay_sender(ctx.settings))
            await stack.enter_async_context(readiness.running())
            if ctx.settings.health_port is not None:
                bound = stack.enter_context(
                    health_port(ctx.settings.host, ctx.settings.health_port, readiness)
                )
                log.info("health port listening", port=bound)
            gc_tuning.settle()
            log.info("hookd started", version=__version__, worker=run_worker)
            try:
                yield
            finally:
                await stack.aclose()
                await ctx.db.close()
                log.info("hookd stopped")

    app = FastAPI(
        title="hookd",
        version=__version__,
        description="Self-hosted webhooks: a Svix-compatible management API.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # FastAPI's own OpenTelemetry (on when a global provider is set) stays off: hookd's
        # traces and metrics are its own (api.traced, api.served), and asking FastAPI
        # whether it is on took 2% of a message create's CPU.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.ctx = ctx
    app.state.relay_hub = runtime.relay_hub
    # The admin token and the API keys and app portal tokens stored in the database.
    api_keys = api_keys.bound(ctx)
    app.state.api_keys = api_keys
    app.state.readiness = readiness
    app.state.metrics = metrics_port.exporter_of(runtime.telemetry)  # None: metrics off
    errors.install(app)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    allow.install(app)  # 405: Allow lists every method of the path
    docs.install(app)
    openapi.install(app)  # shared answers and the bearer scheme, on every route
    # Each route's rule in api/access/rules.py (full admins only when it has none).
    authorized = [Depends(authorize)]
    for module in (
        applications,
        endpoints,
        event_types,
        messages,
        attempts,
        ingest_sources,
        ingest_endpoints,
        ingest_requests,
        calls,
        operational_endpoints,
        background_tasks,
    ):
        app.include_router(module.router, dependencies=authorized)
    app.include_router(relay_routes.app_router, dependencies=authorized)
    # Full admins only: hookd's own API keys, and the observability routes.
    admins = [Depends(require_admin)]
    for router in (
        access_keys.router,
        metrics.router,
        alert_channels.router,
        statistics.router,
        alerts.router,
        bins.router,
        relay_routes.router,
        statistics.endpoint_router,
        statistics.source_router,
    ):
        app.include_router(router, dependencies=admins)
    app.include_router(access_portal.router)  # each route declares its own
    # hookd listen's WebSocket: it authenticates and authorizes itself (api/relays/socket).
    app.add_api_websocket_route(relay_socket.LISTEN_PATH, relay_socket.listen)
    app.router.routes.insert(0, fast_create.route())  # the hot route, matched first
    app.include_router(health.router)
    app.include_router(payloads.router)  # public: the link's signature is the proof
    console.install(app)  # /console: its own sign-in (sessions), and GET / leads there
    app.add_middleware(
        Idempotency,
        ctx=ctx,
        api_keys=api_keys,
        own_keys=[fast_create.PATH],
        # Their answers carry a new token, which is never kept (a repeat makes another token).
        unkept=[access_keys.CREATE_PATH, access_portal.ACCESS_PATH],
    )
    app.add_middleware(BodyLimit, limit=ctx.settings.max_payload_bytes + ENVELOPE_BYTES)
    app.add_middleware(NulGuard)  # a NUL in the path or query: 422 before any route (api/nul.py)
    # A database outage is a 503 with Retry-After, not a 500. Inside the app, because
    # Starlette's error middleware (always the app's outermost) answers 500 to anything that
    # reaches it; create_server puts the same middleware around the ingest door.
    app.add_middleware(errors.DatabaseOutage)
    return app


def create_server(
    runtime: Runtime,
    api_keys: ApiKeys,
    *,
    run_worker: bool = True,
    readiness: health.Readiness | None = None,
) -> ASGIApp:
    """What uvicorn serves: ``/in/{source}`` (public: each provider's signature is the proof)
    answered in front of FastAPI, everything else (and the lifespan) by ``create_app``; every
    request logged once, with its request id (``api.request_log``)."""
    app = create_app(runtime, api_keys, run_worker=run_worker, readiness=readiness)
    # The message create's common case in front of FastAPI (api/send/create_door.py).
    limit = runtime.ctx.settings.max_payload_bytes + ENVELOPE_BYTES
    creates = CreateDoor(app, runtime.ctx, app.state.api_keys, limit)
    ingest_door = door.IngestDoor(creates, runtime.ctx, runtime.relay_hub)
    server: ASGIApp = errors.DatabaseOutage(ingest_door)  # /in/: the door re-raises outages to it
    # Inside the reporting wrappers: what it answers (an unexpected error's 500) they see too.
    server = RequestLog(server)
    if runtime.telemetry is not NO_TELEMETRY:  # the default reports nothing: no wrapper
        server = Served(server, runtime.telemetry)
    if runtime.tracing is not None:  # tracing off: no wrapper
        server = Traced(server, runtime.tracing)
    return server
