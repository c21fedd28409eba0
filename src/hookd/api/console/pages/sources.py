"""Sources (the receive side): list, create with a provider picker, edit, delete.

The config part of the form is generated from the providers' description
(``core.providers.config_description``), one field per described key; the source is then saved
by ``services.ingest.sources`` as through the Ingest API, whose parsers judge the config. A
source's own page is its request inspector (``pages.inspector``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from starlette.responses import Response

from hookd.api.console.forms import Form, field_errors, read_form
from hookd.api.console.render import NavItem, notice, page, page_links, see_other
from hookd.api.console.routing import console_router
from hookd.api.console.sessions import context
from hookd.core.domain import ListQuery, Source, StaticResponse
from hookd.core.masking import mask_config
from hookd.core.providers import PROVIDERS
from hookd.core.providers.config_description import ConfigField, fields_of
from hookd.core.providers.relay import RELAY
from hookd.services.errors import Invalid, ServiceError
from hookd.services.ingest import sources as service

router = console_router()
NAV = NavItem("Sources", "/console/sources")
PAGE_SIZE = 50
CREATED = notice("source-created", "Source created. Send requests to its ingest URL.")
SAVED = notice("source-saved", "Source saved.")
DELETED = notice("source-deleted", "Source deleted.")
# The picker's order: the generic receivers first, then the providers by name. Relays are made
# by `hookd listen` (/api/v1/relay, with their listener endpoints), not picked here.
FIRST = ("generic-webhook", "standard-webhooks", "bin")
NOT_PICKED = frozenset({RELAY})
PROVIDER_NAMES = FIRST + tuple(
    sorted(name for name in PROVIDERS if name not in FIRST and name not in NOT_PICKED)
)


def base(source_id: str | None = None) -> str:
    return "/console/sources" if source_id is None else f"/console/sources/{source_id}"


def _provider(raw: str) -> str:
    if raw not in PROVIDERS:
        raise Invalid(
            f"choose a provider: one of {', '.join(PROVIDER_NAMES)}", loc=("form", "type")
        )
    return raw


def _field_key(field: ConfigField) -> str:
    return "config." + field.name


def _nested_get(config: Mapping[str, Any], name: str) -> Any:
    value: Any = config
    for part in name.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _nested_set(config: dict[str, Any], name: str, value: Any) -> None:
    *parents, last = name.split(".")
    target = config
    for part in parents:
        child = target.get(part)
        if not isinstance(child, dict):
            child = {}
            target[part] = child
        target = child
    if value is None:
        target.pop(last, None)
    else:
        target[last] = value
    for depth in range(len(parents), 0, -1):  # drop objects the form emptied
        holder = config
        for part in parents[: depth - 1]:
            holder = holder[part]
        if holder.get(parents[depth - 1]) == {}:
            holder.pop(parents[depth - 1])


def _form_value(form: Form, field: ConfigField) -> Any:
    """The config value of one described field (None: not set, the provider's default)."""
    key = _field_key(field)
    if field.kind == "boolean":
        return True if form.checked(key) else None
    if field.kind == "integer":
        return form.integer(key, label=field.label, minimum=field.minimum, maximum=field.maximum)
    if field.kind == "list":
        return form.words(key)
    if field.kind == "choice":
        value = form.text(key)
        if value and value not in field.choices:
            raise Invalid(
                f"{field.label} must be one of {', '.join(field.choices)}", loc=("form", key)
            )
        return value or None
    return form.get(key) if form.get(key).strip() else None


def config_from_form(form: Form, provider: str, stored: Mapping[str, Any]) -> dict[str, Any]:
    """The config the form describes, over what the form does not show (a rotation's previous
    secret, a bin's answer headers) kept as stored."""
    config: dict[str, Any] = {
        key: (dict(value) if isinstance(value, Mapping) else value) for key, value in stored.items()
    }
    for field in fields_of(provider):
        _nested_set(config, field.name, _form_value(form, field))
    return config


def _response_fields(response: StaticResponse | None) -> dict[str, Any] | None:
    if response is None:
        return None
    return {
        "status_code": response.status,
        "content_type": response.content_type,
        "body": response.body.decode("utf-8", errors="replace"),
    }


def source_fields(form: Form, existing: Source | None) -> dict[str, Any]:
    """What the service saves: the form's name, type and config, the rest kept as it was."""
    provider = _provider(form.text("type"))
    if existing is None and provider in NOT_PICKED:
        raise Invalid(
            f"choose a provider: one of {', '.join(PROVIDER_NAMES)}", loc=("form", "type")
        )
    name = form.text("name")
    if not name:
        raise Invalid("Name is required", loc=("form", "name"))
    same = existing is not None and existing.provider == provider
    stored = existing.config if existing is not None and same else {}
    fields: dict[str, Any] = {
        "name": name,
        # A source made through the API keeps its Svix type (``clerk``, or ``generic-webhook``
        # naming its provider in the config) while its provider stays the same.
        "type": existing.type if existing is not None and same else provider,
        "config": config_from_form(form, provider, stored),
        "dedup_window_seconds": form.integer(
            "dedup_window_seconds", label="Deduplication window", minimum=0, maximum=30 * 86400
        ),
    }
    if existing is not None:
        fields.update(
            uid=existing.uid,
            metadata=existing.metadata,
            response=_response_fields(existing.response),
        )
    return fields


def _shown_value(field: ConfigField, config: Mapping[str, Any]) -> Any:
    value = _nested_get(config, field.name)
    if value is None:
        return False if field.kind == "boolean" else ""
    if field.kind == "list" and isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return value


def config_values(provider: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The form's config values of a stored source: secrets masked (sent back masked, the
    service keeps the stored secret)."""
    masked = mask_config(config)
    return {_field_key(f): _shown_value(f, masked) for f in fields_of(provider)}


def posted_config(form: Form, provider: str) -> dict[str, Any]:
    return {
        _field_key(f): form.checked(_field_key(f))
        if f.kind == "boolean"
        else form.get(_field_key(f))
        for f in fields_of(provider)
    }


async def _form_page(
    request: Request,
    source: Source | None,
    provider: str,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    status_code: int = 200,
) -> Response:
    return page(
        request,
        "sources/form.html",
        {
            "source": source,
            "provider": provider,
            "providers": PROVIDER_NAMES,
            "fields": fields_of(provider),
            "values": values,
            "errors": errors,
        },
        status_code=status_code,
        title="Edit source" if source else "New source",
    )


def _errors(exc: ServiceError, provider: str) -> dict[str, str]:
    """A service error under its field (``("body", "config", "secret")`` is ``config.secret``),
    and at the top with the field's label (the parsers' texts do not name it)."""
    errors = field_errors(exc)
    loc: tuple[str | int, ...] = getattr(exc, "loc", ())
    if len(loc) > 2 and loc[1] == "config":
        name = ".".join(str(part) for part in loc[2:])
        errors["config." + name] = exc.detail
        labels = {field.name: field.label for field in fields_of(provider)}
        errors["_"] = f"{labels.get(name, name)}: {exc.detail}"
    if len(loc) > 1 and loc[1] == "dedup_window_seconds":
        errors["dedup_window_seconds"] = exc.detail
    return errors


@router.get("/console/sources")
async def list_sources(request: Request) -> Response:
    ctx = context(request)
    result = await service.list_sources(
        ctx, ListQuery(PAGE_SIZE, request.query_params.get("iterator") or None, "descending")
    )
    previous, following = page_links(request, result)
    rows = [(source, service.ingest_url(ctx, source)) for source in result.items]
    return page(
        request,
        "sources/list.html",
        {"rows": rows, "previous": previous, "following": following},
        title="Sources",
    )


@router.get("/console/sources/new")
async def new_source(request: Request) -> Response:
    """The form of the provider picked (``?type=``); htmx asks for its config part alone."""
    provider = request.query_params.get("type") or "generic-webhook"
    if provider not in PROVIDERS:
        provider = "generic-webhook"
    if request.headers.get("hx-target") == "config-fields":
        return page(
            request,
            "sources/config_fields.html",
            {"fields": fields_of(provider), "values": {}, "errors": {}, "provider": provider},
        )
    return await _form_page(request, None, provider, {}, {})


@router.post("/console/sources/new")
async def create_source(request: Request) -> Response:
    form = await read_form(request)
    provider = form.text("type") if form.text("type") in PROVIDERS else "generic-webhook"
    try:
        source = await service.create_source(context(request), source_fields(form, None))
    except ServiceError as exc:
        values = {"name": form.get("name"), **posted_config(form, provider)}
        values["dedup_window_seconds"] = form.get("dedup_window_seconds")
        return await _form_page(
            request, None, provider, values, _errors(exc, provider), status_code=exc.status_code
        )
    return see_other(base(source.id), notice_code=CREATED)


@router.get("/console/sources/{source_id}/edit")
async def edit_source(request: Request, source_id: str) -> Response:
    source = await service.get_source(context(request), source_id)
    provider = request.query_params.get("type") or source.provider
    if provider not in PROVIDERS:
        provider = source.provider
    config = source.config if provider == source.provider else {}
    values = {
        "name": source.name,
        "dedup_window_seconds": ""
        if source.dedup_window_seconds is None
        else source.dedup_window_seconds,
        **config_values(provider, config),
    }
    if request.headers.get("hx-target") == "config-fields":
        return page(
            request,
            "sources/config_fields.html",
            {"fields": fields_of(provider), "values": values, "errors": {}, "provider": provider},
        )
    return await _form_page(request, source, provider, values, {})


@router.post("/console/sources/{source_id}/edit")
async def save_source(request: Request, source_id: str) -> Response:
    form = await read_form(request)
    ctx = context(request)
    source = await service.get_source(ctx, source_id)
    provider = form.text("type") if form.text("type") in PROVIDERS else source.provider
    try:
        saved, _ = await service.upsert_source(ctx, source.id, source_fields(form, source))
    except ServiceError as exc:
        if exc.status_code == 404:
            raise
        values = {"name": form.get("name"), **posted_config(form, provider)}
        values["dedup_window_seconds"] = form.get("dedup_window_seconds")
        return await _form_page(
            request, source, provider, values, _errors(exc, provider), status_code=exc.status_code
        )
    return see_other(base(saved.id), notice_code=SAVED)


@router.get("/console/sources/{source_id}/delete")
async def confirm_delete(request: Request, source_id: str) -> Response:
    source = await service.get_source(context(request), source_id)
    return page(request, "sources/delete.html", {"source": source}, title="Delete source")


@router.post("/console/sources/{source_id}/delete")
async def delete_source(request: Request, source_id: str) -> Response:
    await service.delete_source(context(request), source_id)
    return see_other(base(), notice_code=DELETED)
