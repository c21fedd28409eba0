"""API keys: list (never their tokens), create (scope admin, read-only or one application; the
token shown once, on the answer to the form), revoke. Through ``services.access.api_keys``."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from hookd.api.console.forms import field_errors, read_form
from hookd.api.console.render import NavItem, notice, page, page_links, see_other
from hookd.api.console.routing import console_router
from hookd.api.console.sessions import context
from hookd.core.access import Scope
from hookd.core.domain import ListQuery
from hookd.services.access import api_keys as service
from hookd.services.errors import Invalid, ServiceError

router = console_router()
NAV = NavItem("API keys", "/console/api-keys")
PAGE_SIZE = 50
REVOKED = notice("key-revoked", "API key revoked: it is refused from now on.")
SCOPES = (
    (Scope.ADMIN.value, "Admin: everything"),
    (Scope.READ_ONLY.value, "Read-only: every read but secrets and transformations"),
    (Scope.APPLICATION.value, "One application, with every capability in it"),
)


async def _list(
    request: Request,
    *,
    created: tuple[object, str] | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    result = await service.list_keys(
        context(request), ListQuery(PAGE_SIZE, request.query_params.get("iterator") or None)
    )
    previous, following = page_links(request, result)
    return page(
        request,
        "api_keys/list.html",
        {
            "keys": result.items,
            "scopes": SCOPES,
            "created": created,
            "values": values or {"scope": Scope.READ_ONLY.value},
            "errors": errors or {},
            "previous": previous,
            "following": following,
        },
        status_code=status_code,
        title="API keys",
    )


@router.get("/console/api-keys")
async def list_keys(request: Request) -> Response:
    return await _list(request)


@router.post("/console/api-keys")
async def create_key(request: Request) -> Response:
    form = await read_form(request)
    values = {key: form.get(key) for key in ("name", "scope", "app_id", "expires_at")}
    try:
        name = form.text("name")
        if not name:
            raise Invalid("Name is required", loc=("form", "name"))
        if form.text("scope") not in {s.value for s in Scope}:
            raise Invalid("Choose a scope", loc=("form", "scope"))
        scope = Scope(form.text("scope"))
        key, token = await service.create_key(
            context(request),
            name=name,
            scope=scope,
            app_ref=form.optional("app_id") if scope is Scope.APPLICATION else None,
            expires_at=form.time("expires_at", label="Expires"),
        )
    except ServiceError as exc:
        errors = field_errors(exc)
        for api, field in (("appId", "app_id"), ("expiresAt", "expires_at")):
            if api in errors:
                errors[field] = errors.pop(api)
        return await _list(request, values=values, errors=errors, status_code=exc.status_code)
    # The token is on this answer only (no redirect: it would have to travel in a URL).
    return await _list(request, created=(key, token), status_code=201)


@router.post("/console/api-keys/{key_id}/revoke")
async def revoke_key(request: Request, key_id: str) -> Response:
    await service.revoke_key(context(request), key_id)
    return see_other("/console/api-keys", notice_code=REVOKED)
