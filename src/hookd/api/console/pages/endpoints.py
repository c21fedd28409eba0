"""An application's endpoints: list with health, create and edit with every setting the API
has (read and checked through the API's own model and the same services), a test run of the
transformation on a sample payload, enable/disable, delete, reveal and rotate the secret,
custom headers, recover failed messages, send an example event."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from pydantic import ValidationError
from starlette.responses import Response

from hookd.api.console.charts import sparkline
from hookd.api.console.forms import Form, field_errors, read_form
from hookd.api.console.render import notice, page, page_links, see_other, to_json
from hookd.api.console.routing import console_router
from hookd.api.console.sessions import context
from hookd.api.send.models import EndpointIn
from hookd.api.send.serialize import endpoint_out
from hookd.core.domain import Endpoint, EventType, ListQuery
from hookd.core.endpoint_auth import MASK, auth_to_json, tls_to_json
from hookd.core.masking import mask_url
from hookd.services import applications as app_service
from hookd.services import event_types as event_type_service
from hookd.services import statistics
from hookd.services.endpoints import crud as service
from hookd.services.endpoints.crud import SENSITIVE_HEADERS
from hookd.services.endpoints.example import send_example
from hookd.services.endpoints.overview import endpoints_with_health
from hookd.services.endpoints.transformation import TrialRun, try_transformation
from hookd.services.errors import Invalid, ServiceError

router = console_router()
PAGE_SIZE = 50
CATALOG_SHOWN = 250  # event types offered as filter checkboxes
CREATED = notice("endpoint-created", "Endpoint created.")
SAVED = notice("endpoint-saved", "Endpoint saved.")
DELETED = notice("endpoint-deleted", "Endpoint deleted.")
ENABLED = notice("endpoint-enabled", "Endpoint enabled.")
DISABLED = notice("endpoint-disabled", "Endpoint disabled: nothing is sent to it.")
ROTATED = notice(
    "secret-rotated", "Secret rotated. The previous one keeps co-signing for 24 hours."
)
HEADERS_SAVED = notice("headers-saved", "Headers saved.")
RECOVERED = notice("recovered", "{count} failed messages queued again.")
EXAMPLE_SENT = notice("example-sent", "Example event sent to the endpoint.")


def base(app_id: str, endpoint_id: str | None = None) -> str:
    url = f"/console/apps/{app_id}/endpoints"
    return url if endpoint_id is None else f"{url}/{endpoint_id}"


SECRET_FIELDS = ("authPassword", "authToken", "authClientSecret", "tlsClientKey")
TEXT_FIELDS = (
    "url",
    "description",
    "uid",
    "channels",
    "rateLimit",
    "version",
    "batchSize",
    "batchMaxWaitMs",
    "filter",
    "metadata",
    "method",
    "timeoutMs",
    "urlTemplate",
    "bodyTemplate",
    "responseMapping",
    "fallbackResponse",
    "headers",
    "authType",
    "authUsername",
    "authTokenUrl",
    "authClientId",
    "authScope",
    "authAudience",
    "authClientAuthMethod",
    "tlsClientCert",
    "tlsCaBundle",
    "transformationCode",
    "transformationSample",
)
CHECKBOXES = ("disabled", "thin", "fifo", "traceContext", "retryAsync", "transformationEnabled")
AUTH_KINDS = {"basic": "HTTP Basic", "bearer": "bearer token", "oauth2": "OAuth 2.0"}
METHODS = ("POST", "GET", "PUT", "PATCH", "DELETE")
SAMPLE_PAYLOAD = '{\n  "type": "invoice.paid",\n  "data": {"invoice": "in_1001", "amount": 4200}\n}'


def parse_headers(
    text: str, stored: Mapping[str, str] | None = None, *, masks: bool = False
) -> dict[str, str]:
    """``Name: value`` lines (blank lines ignored). A value left as the mask the form showed
    keeps the stored one (a sensitive header's value is never shown); with ``masks``, it
    stays the mask (a test run)."""
    kept = {name.lower(): value for name, value in (stored or {}).items()}
    headers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not colon or not name:
            raise Invalid(f"header line {number} is not 'Name: value'", loc=("form", "headers"))
        if value == MASK and name.lower() in SENSITIVE_HEADERS and not masks:
            if name.lower() not in kept:
                raise Invalid(f"type the value of header {name!r}", loc=("form", "headers"))
            value = kept[name.lower()]
        headers[name] = value
    return headers


def _json(form: Form, name: str, label: str) -> Any:
    raw = form.text(name)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise Invalid(f"{label} is not valid JSON: {exc}", loc=("form", name)) from None


def _auth(form: Form) -> dict[str, Any] | None:
    kind = form.text("authType")
    if not kind:
        return None
    if kind == "basic":
        return {
            "type": "basic",
            "username": form.text("authUsername"),
            "password": form.get("authPassword"),
        }
    if kind == "bearer":
        return {"type": "bearer", "token": form.text("authToken")}
    return {
        "type": kind,
        "tokenUrl": form.text("authTokenUrl"),
        "clientId": form.text("authClientId"),
        "clientSecret": form.text("authClientSecret"),
        "scope": form.optional("authScope"),
        "audience": form.optional("authAudience"),
        "clientAuthMethod": form.optional("authClientAuthMethod"),
    }


def _tls(form: Form) -> dict[str, Any] | None:
    tls = {
        "clientCert": form.optional("tlsClientCert"),
        "clientKey": form.optional("tlsClientKey"),
        "caBundle": form.optional("tlsCaBundle"),
    }
    return tls if any(tls.values()) else None


def api_body(form: Form, stored: Endpoint | None) -> dict[str, Any]:
    """The form as the API's JSON body (camelCase): every setting, sent in full."""
    url = form.text("url")
    if not url:
        raise Invalid("URL is required", loc=("form", "url"))
    types = list(dict.fromkeys(form.getlist("filterTypes") + (form.words("otherTypes") or [])))
    code = form.get("transformationCode")
    body: dict[str, Any] = {
        "url": url,
        "description": form.text("description"),
        "uid": form.optional("uid"),
        "disabled": form.checked("disabled"),
        "filterTypes": types or None,
        "channels": form.words("channels"),
        "rateLimit": form.optional("rateLimit"),
        "version": form.optional("version"),
        "thin": form.checked("thin"),
        "filter": _json(form, "filter", "Filter"),
        "metadata": _json(form, "metadata", "Metadata") or {},
        "fifo": form.checked("fifo"),
        "batchSize": form.optional("batchSize"),
        "batchMaxWaitMs": form.optional("batchMaxWaitMs"),
        "traceContext": form.checked("traceContext"),
        "method": form.optional("method"),
        "timeoutMs": form.optional("timeoutMs"),
        "urlTemplate": form.optional("urlTemplate"),
        "bodyTemplate": form.optional("bodyTemplate"),
        "responseMapping": _json(form, "responseMapping", "Response mapping"),
        "fallbackResponse": _json(form, "fallbackResponse", "Fallback response"),
        "retryAsync": form.checked("retryAsync"),
    }
    # Settings held apart from the rest (secrets, code): changed only by a form that has them.
    if form.has("authType"):
        body["auth"] = _auth(form)
    if any(form.has(name) for name in ("tlsClientCert", "tlsClientKey", "tlsCaBundle")):
        body["tls"] = _tls(form)
    if form.has("transformationCode"):
        body["transformation"] = (
            {"code": code, "enabled": form.checked("transformationEnabled")}
            if code.strip()
            else None
        )
    if form.has("headers"):
        body["headers"] = parse_headers(form.get("headers"), stored.headers if stored else None)
    return body


def endpoint_fields(form: Form, stored: Endpoint | None) -> dict[str, Any]:
    """The endpoint settings of the form, checked by the API's own model (the same 422s as
    the API) and then by the services, as for the API."""
    try:
        model = EndpointIn.model_validate(api_body(form, stored))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(str(part) for part in first["loc"])
        raise Invalid(f"{'.'.join(loc)}: {first['msg']}", loc=("body", *loc)) from None
    return model.fields_set()


def form_values(endpoint: Endpoint, *, reveal: bool = False) -> dict[str, Any]:
    """The stored endpoint as the form shows it: as the API answers it (secrets masked), or
    with ``reveal``, its secrets in clear (the visitor asked to see them)."""
    out = endpoint_out(endpoint)
    auth: dict[str, Any] = out["auth"] or {}
    tls: dict[str, Any] = out["tls"] or {}
    if reveal:
        auth = auth_to_json(endpoint.auth) if endpoint.auth is not None else {}
        tls = tls_to_json(endpoint.tls) if endpoint.tls is not None else {}
    transformation: dict[str, Any] = out["transformation"] or {}

    def shown(value: Any) -> str:
        return "" if value is None else to_json(value)

    return {
        "url": out["url"],
        "description": out["description"],
        "uid": out["uid"] or "",
        "disabled": out["disabled"],
        "filter_types": list(out["filterTypes"] or ()),
        "channels": ", ".join(out["channels"] or ()),
        "rateLimit": out["rateLimit"] or "",
        "version": out["version"] if out["versionPinned"] else "",
        "thin": out["thin"],
        "filter": shown(out["filter"]),
        "metadata": shown(out["metadata"] or None),
        "fifo": out["fifo"],
        "batchSize": out["batchSize"] or "",
        "batchMaxWaitMs": "" if out["batchMaxWaitMs"] is None else out["batchMaxWaitMs"],
        "traceContext": out["traceContext"],
        "method": out["method"],
        "timeoutMs": out["timeoutMs"],
        "urlTemplate": out["urlTemplate"] or "",
        "bodyTemplate": out["bodyTemplate"] or "",
        "responseMapping": shown(out["responseMapping"]),
        "fallbackResponse": shown(out["fallbackResponse"]),
        "retryAsync": out["retryAsync"],
        "headers": "\n".join(
            f"{name}: {endpoint.headers[name] if reveal else MASK if sensitive else value}"
            for name, value, sensitive in shown_headers(endpoint.headers)
        ),
        "authType": auth.get("type", ""),
        "authUsername": auth.get("username", ""),
        "authPassword": auth.get("password", ""),
        "authToken": auth.get("token", ""),
        "authTokenUrl": auth.get("tokenUrl", ""),
        "authClientId": auth.get("clientId", ""),
        "authClientSecret": auth.get("clientSecret", ""),
        "authScope": auth.get("scope") or "",
        "authAudience": auth.get("audience") or "",
        "authClientAuthMethod": auth.get("clientAuthMethod") or "",
        "tlsClientCert": tls.get("clientCert") or "",
        "tlsClientKey": tls.get("clientKey") or "",
        "tlsCaBundle": tls.get("caBundle") or "",
        "transformationCode": transformation.get("code") or "",
        "transformationEnabled": transformation.get("enabled", True),
        "transformationSample": SAMPLE_PAYLOAD,
    }


def new_values() -> dict[str, Any]:
    return {
        "filter_types": [],
        "traceContext": True,
        "transformationEnabled": True,
        "method": "POST",
        "transformationSample": SAMPLE_PAYLOAD,
    }


def posted_values(form: Form, stored: Endpoint | None) -> dict[str, Any]:
    """What the visitor sent, to show the form again; a secret comes back only as the mask
    of the stored one (one typed in must be typed again), a sensitive header's value too."""
    values: dict[str, Any] = {key: form.get(key) for key in TEXT_FIELDS}
    for key in CHECKBOXES:
        values[key] = form.checked(key)
    values["filter_types"] = form.getlist("filterTypes") + (form.words("otherTypes") or [])
    masked = form_values(stored) if stored is not None else {}
    for key in SECRET_FIELDS:
        values[key] = masked.get(key, "") if form.get(key) == masked.get(key) else ""
    lines = []
    for line in form.get("headers").splitlines():
        name, colon, _ = line.partition(":")
        sensitive = colon and name.strip().lower() in SENSITIVE_HEADERS
        lines.append(f"{name.strip()}: {MASK}" if sensitive else line)
    values["headers"] = "\n".join(lines)
    return values


def shown_headers(headers: dict[str, str]) -> list[tuple[str, str, bool]]:
    """(name, value, sensitive): a sensitive header's value is not shown."""
    return [
        (
            name,
            "" if name.lower() in SENSITIVE_HEADERS else value,
            name.lower() in SENSITIVE_HEADERS,
        )
        for name, value in sorted(headers.items(), key=lambda item: item[0].lower())
    ]


async def catalog(request: Request) -> list[EventType]:
    found = await event_type_service.list_event_types(
        context(request),
        ListQuery(CATALOG_SHOWN, None, "ascending"),
        include_archived=False,
    )
    return found.items


@router.get("/console/apps/{app_id}/endpoints")
async def list_endpoints(request: Request, app_id: str) -> Response:
    ctx = context(request)
    app = await app_service.get_app(ctx, app_id)
    result = await endpoints_with_health(
        ctx, app.id, iterator=request.query_params.get("iterator") or None, limit=PAGE_SIZE
    )
    previous, following = page_links(request, result)
    rates = await statistics.success_sparklines(ctx, [ep.id for ep, _ in result.items])
    sparks = {
        ep_id: sparkline(line, what="success rate per hour over the last 24 hours")
        for ep_id, line in rates.items()
    }
    return page(
        request,
        "endpoints/list.html",
        {
            "app": app,
            "rows": result.items,
            "sparks": sparks,
            "previous": previous,
            "following": following,
        },
        title=f"{app.name} · endpoints",
    )


async def _form_page(
    request: Request,
    app_id: str,
    endpoint: Endpoint | None,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    status_code: int = 200,
    revealed: bool = False,
) -> Response:
    app = await app_service.get_app(context(request), app_id)
    types = await catalog(request)
    known = {t.name for t in types}
    return page(
        request,
        "endpoints/form.html",
        {
            "app": app,
            "endpoint": endpoint,
            "values": values,
            "errors": errors,
            "types": types,
            "other_types": ", ".join(t for t in values.get("filter_types", ()) if t not in known),
            "methods": METHODS,
            "revealed": revealed,
        },
        status_code=status_code,
        title="Endpoint",
    )


@router.post("/console/apps/{app_id}/endpoints/transformation-test")
async def test_transformation(request: Request, app_id: str) -> Response:
    """The endpoint form's test run (htmx posts the form here): what its transformation code
    makes of the sample payload, or the error, as a fragment. Nothing is saved or sent."""
    form = await read_form(request)
    ctx = context(request)
    app = await app_service.get_app(ctx, app_id)
    trial: TrialRun | None = None
    error = None
    try:
        trial = await try_transformation(
            ctx,
            form.get("transformationCode"),
            url=form.text("url"),
            headers=parse_headers(form.get("headers"), masks=True),
            payload=form.get("transformationSample").encode(),
            app_id=app.id,
        )
    except Invalid as exc:
        error = exc.detail
    return page(request, "endpoints/trial.html", {"trial": trial, "error": error})


@router.get("/console/apps/{app_id}/endpoints/new")
async def new_endpoint(request: Request, app_id: str) -> Response:
    return await _form_page(request, app_id, None, new_values(), {})


@router.post("/console/apps/{app_id}/endpoints/new")
async def create_endpoint(request: Request, app_id: str) -> Response:
    form = await read_form(request)
    try:
        endpoint = await service.create_endpoint(
            context(request), app_id, endpoint_fields(form, None)
        )
    except ServiceError as exc:
        if exc.status_code == 404:
            raise
        return await _form_page(
            request,
            app_id,
            None,
            posted_values(form, None),
            field_errors(exc),
            status_code=exc.status_code,
        )
    return see_other(base(endpoint.app_id, endpoint.id), notice_code=CREATED)


async def _detail(
    request: Request, app_id: str, endpoint_id: str, *, reveal: bool = False
) -> Response:
    ctx = context(request)
    app = await app_service.get_app(ctx, app_id)
    endpoint, health = await service.endpoint_health(ctx, app.id, endpoint_id)
    return page(
        request,
        "endpoints/detail.html",
        {
            "app": app,
            "endpoint": endpoint,
            "url": mask_url(endpoint.url),
            "state": health.health.state(disabled=endpoint.disabled),
            "health": health,
            "headers": shown_headers(endpoint.headers),
            "types": await catalog(request),
            "secret": endpoint.secret if reveal else None,
            "auth_kind": AUTH_KINDS.get(
                (endpoint_out(endpoint)["auth"] or {}).get("type", ""), "only the signature"
            ),
        },
        title=f"Endpoint {endpoint.description or endpoint.id}",
    )


@router.get("/console/apps/{app_id}/endpoints/{endpoint_id}")
async def show_endpoint(request: Request, app_id: str, endpoint_id: str) -> Response:
    return await _detail(request, app_id, endpoint_id)


@router.get("/console/apps/{app_id}/endpoints/{endpoint_id}/secret")
async def reveal_secret(request: Request, app_id: str, endpoint_id: str) -> Response:
    """The signing secret: a fragment for htmx, else the endpoint's page showing it."""
    if request.headers.get("hx-target") != "secret":
        return await _detail(request, app_id, endpoint_id, reveal=True)
    endpoint = await service.get_endpoint(context(request), app_id, endpoint_id)
    return page(request, "endpoints/secret.html", {"endpoint": endpoint, "secret": endpoint.secret})


@router.post("/console/apps/{app_id}/endpoints/{endpoint_id}/secret/rotate")
async def rotate_secret(request: Request, app_id: str, endpoint_id: str) -> Response:
    endpoint = await service.rotate_secret(
        context(request), app_id, endpoint_id, key=None, grace_period_seconds=None
    )
    return see_other(base(endpoint.app_id, endpoint.id), notice_code=ROTATED)


@router.get("/console/apps/{app_id}/endpoints/{endpoint_id}/edit")
async def edit_endpoint(request: Request, app_id: str, endpoint_id: str) -> Response:
    """The form; ``?reveal=1`` shows the secrets of its headers, authentication and TLS key."""
    endpoint = await service.get_endpoint(context(request), app_id, endpoint_id)
    reveal = request.query_params.get("reveal") == "1"
    return await _form_page(
        request, app_id, endpoint, form_values(endpoint, reveal=reveal), {}, revealed=reveal
    )


@router.post("/console/apps/{app_id}/endpoints/{endpoint_id}/edit")
async def save_endpoint(request: Request, app_id: str, endpoint_id: str) -> Response:
    form = await read_form(request)
    endpoint = await service.get_endpoint(context(request), app_id, endpoint_id)
    try:
        await service.update_endpoint(
            context(request),
            app_id,
            endpoint.id,
            endpoint_fields(form, endpoint),
            replace=False,
        )
    except ServiceError as exc:
        if exc.status_code == 404:
            raise
        return await _form_page(
            request,
            app_id,
            endpoint,
            posted_values(form, endpoint),
            field_errors(exc),
            status_code=exc.status_code,
        )
    return see_other(base(endpoint.app_id, endpoint.id), notice_code=SAVED)


async def enable_posted(request: Request, app_id: str, endpoint_id: str) -> tuple[Endpoint, str]:
    """``enabled=1`` enables the endpoint, ``enabled=0`` disables it: the endpoint and the
    notice to show."""
    enable = (await read_form(request)).get("enabled") == "1"
    endpoint, _ = await service.update_endpoint(
        context(request), app_id, endpoint_id, {"disabled": not enable}, replace=False
    )
    return endpoint, ENABLED if enable else DISABLED


@router.post("/console/apps/{app_id}/endpoints/{endpoint_id}/enabled")
async def set_enabled(request: Request, app_id: str, endpoint_id: str) -> Response:
    endpoint, notice_code = await enable_posted(request, app_id, endpoint_id)
    return see_other(base(endpoint.app_id, endpoint.id), notice_code=notice_code)


@router.post("/console/apps/{app_id}/endpoints/{endpoint_id}/headers")
async def save_headers(request: Request, app_id: str, endpoint_id: str) -> Response:
    """Remove the checked headers and add (or replace) the one typed in."""
    form = await read_form(request)
    name = form.text("add_name")
    added = {name: form.text("add_value")} if name else {}
    endpoint = await service.set_headers(
        context(request),
        app_id,
        endpoint_id,
        added,
        replace=False,
        delete=[n for n in form.getlist("remove") if n.lower() not in {a.lower() for a in added}],
    )
    return see_other(base(endpoint.app_id, endpoint.id), notice_code=HEADERS_SAVED)


async def recover_posted(request: Request, app_id: str, endpoint_id: str) -> int:
    """Resend the endpoint's messages failed since the posted time: how many were sent."""
    since = (await read_form(request)).time("since", label="Since")
    if since is None:
        raise Invalid("Choose the time to recover failed messages from", loc=("form", "since"))
    task = await service.recover(context(request), app_id, endpoint_id, since=since, until=None)
    return int(task.data.get("messagesSent", 0))


@router.post("/console/apps/{app_id}/endpoints/{endpoint_id}/recover")
async def recover(request: Request, app_id: str, endpoint_id: str) -> Response:
    count = await recover_posted(request, app_id, endpoint_id)
    return see_other(base(app_id, endpoint_id), notice_code=RECOVERED, count=count)


async def posted_event_type(request: Request) -> str:
    """The event type an example is posted for (``event_type``)."""
    event_type = (await read_form(request)).text("event_type")
    if not event_type:
        raise Invalid("Choose an event type", loc=("form", "event_type"))
    return event_type


@router.post("/console/apps/{app_id}/endpoints/{endpoint_id}/send-example")
async def example(request: Request, app_id: str, endpoint_id: str) -> Response:
    event_type = await posted_event_type(request)
    message = await send_example(context(request), app_id, endpoint_id, event_type)
    return see_other(
        f"/console/apps/{message.app_id}/messages/{message.id}", notice_code=EXAMPLE_SENT
    )


@router.get("/console/apps/{app_id}/endpoints/{endpoint_id}/delete")
async def confirm_delete(request: Request, app_id: str, endpoint_id: str) -> Response:
    ctx = context(request)
    app = await app_service.get_app(ctx, app_id)
    endpoint = await service.get_endpoint(ctx, app.id, endpoint_id)
    return page(
        request,
        "endpoints/delete.html",
        {"app": app, "endpoint": endpoint, "url": mask_url(endpoint.url)},
        title="Delete endpoint",
    )


@router.post("/console/apps/{app_id}/endpoints/{endpoint_id}/delete")
async def delete_endpoint(request: Request, app_id: str, endpoint_id: str) -> Response:
    app = await app_service.get_app(context(request), app_id)
    await service.delete_endpoint(context(request), app.id, endpoint_id)
    return see_other(base(app.id), notice_code=DELETED)
