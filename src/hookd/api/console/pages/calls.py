"""Synchronous calls: an application's call log, and a form to try a call with params and see
the answer its endpoint's response mapping makes of it (``services.calls.call``, as the API's
``POST .../endpoint/{id}/call``, on the same call sender)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from starlette.responses import Response

from hookd.api.console.forms import Form, field_errors, read_form
from hookd.api.console.render import NavItem, page, page_links
from hookd.api.console.routing import console_router
from hookd.api.console.sessions import context
from hookd.api.send.messages import encode_payload
from hookd.core.calls.plan import CALL_EVENT_TYPE, MAX_TIMEOUT_MS
from hookd.core.domain import Application, ListQuery
from hookd.services import applications as app_service
from hookd.services.calls import call as call_service
from hookd.services.calls.call import CallOutcome
from hookd.services.endpoints import crud as endpoint_service
from hookd.services.errors import Invalid, ServiceError
from hookd.services.messages.log import message_log

router = console_router()
NAV = NavItem("Calls", "/console/calls")
PAGE_SIZE = 50
OFFERED = 250  # applications and endpoints in the pickers


def _json_object(form: Form, name: str, label: str) -> dict[str, Any] | None:
    raw = form.text(name)
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise Invalid(f"{label} is not JSON: {exc}", loc=("form", name)) from None
    if not isinstance(value, dict):
        raise Invalid(f"{label} must be a JSON object", loc=("form", name))
    return value


async def _view(
    request: Request,
    app_id: str | None,
    *,
    outcome: CallOutcome | None = None,
    posted: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = context(request)
    apps = await app_service.list_apps(ctx, ListQuery(OFFERED, None, "ascending"))
    app: Application | None = None
    if app_id:
        app = await app_service.get_app(ctx, app_id)
    values: dict[str, Any] = {
        "apps": apps.items,
        "app": app,
        "endpoints": [],
        "rows": [],
        "previous": None,
        "following": None,
        "outcome": outcome,
        "posted": posted or {},
        "errors": errors or {},
        "max_timeout": MAX_TIMEOUT_MS,
    }
    if app is not None:
        endpoints = await endpoint_service.list_endpoints(
            ctx, app.id, ListQuery(OFFERED, None, "ascending")
        )
        log = await message_log(
            ctx,
            app.id,
            iterator=request.query_params.get("iterator") or None,
            limit=PAGE_SIZE,
            event_types=[CALL_EVENT_TYPE],
        )
        previous, following = page_links(request, log)
        values.update(
            endpoints=endpoints.items,
            by_id={endpoint.id: endpoint for endpoint in endpoints.items},
            rows=log.items,
            previous=previous,
            following=following,
        )
    return page(
        request,
        "calls/calls.html",
        values,
        status_code=status_code,
        title="Calls" if app is None else f"{app.name} · calls",
    )


@router.get("/console/calls")
async def calls(request: Request) -> Response:
    return await _view(request, request.query_params.get("app") or None)


@router.post("/console/calls")
async def try_call(request: Request) -> Response:
    """Make the call and show its answer (recorded in the log like any call)."""
    form = await read_form(request)
    app_id = form.text("app")
    if not app_id:
        raise Invalid("Choose an application", loc=("form", "app"))
    posted = {key: form.get(key) for key in ("endpoint", "params", "payload", "timeout_ms")}
    try:
        endpoint_id = form.text("endpoint")
        if not endpoint_id:
            raise Invalid("Choose the endpoint to call", loc=("form", "endpoint"))
        payload = _json_object(form, "payload", "Payload")
        outcome = await call_service.call_endpoint(
            context(request),
            request.app.state.call_sender,
            app_id,
            endpoint_id,
            payload=None if payload is None else encode_payload(payload, ("form", "payload")),
            params=_json_object(form, "params", "Params") or {},
            timeout_ms=form.integer(
                "timeout_ms", label="Deadline", minimum=1, maximum=MAX_TIMEOUT_MS
            ),
        )
    except ServiceError as exc:
        if exc.status_code == 404:
            raise
        return await _view(
            request,
            app_id,
            posted=posted,
            errors=field_errors(exc),
            status_code=exc.status_code,
        )
    return await _view(request, app_id, outcome=outcome, posted=posted)
