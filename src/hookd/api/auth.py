"""Bearer-token authentication and authorization for the management API.

A request's principal (``hookd.core.access.Principal``) is resolved once, from its
``Authorization: Bearer <token>`` header, and kept in its ASGI scope (:data:`PRINCIPAL`): the
idempotency middleware, the fast create route and FastAPI's dependencies all read that one. The
admin token (the root credential) is compared with its digest in memory; API keys and app
portal tokens are found by ``services.access.tokens`` (stored as digests, cached a second).

Three dependencies: :func:`authenticate` (any principal: 401 without one), :func:`require_admin`
(full admins only: 403 for the others; what every router gets unless it is in the access table)
and :func:`authorize` (the route's rule in ``api.access.rules``: its capability, and for a
principal of one application, 404 for any other application's ids, as for missing ones).
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from starlette.exceptions import HTTPException
from starlette.types import Scope

from hookd.api.access.rules import rule_for
from hookd.api.request_log import record_of
from hookd.core.access import ADMIN as ADMIN_PRINCIPAL
from hookd.core.access import Principal, Rule, allows
from hookd.services.access import tokens
from hookd.services.applications import not_found
from hookd.services.context import Context
from hookd.services.errors import Forbidden

CHALLENGE = {"WWW-Authenticate": "Bearer"}
# The admin token's principal name (``api.idempotency`` keys its cache on principal names).
ADMIN = ADMIN_PRINCIPAL.name
# Where a request's principal is kept in its ASGI scope (None: no valid token).
PRINCIPAL = "hookd.principal"


def token_digest(token: bytes) -> bytes:
    """What is kept of an API key: its SHA-256 (keys are random, 256 bits, so no salt or
    stretching is needed to make the digest useless to whoever reads it)."""
    return tokens.digest(token)


class ApiKeys:
    """The keys the API accepts, kept only as digests: the admin token (the plain token is
    dropped once hashed) and, once bound to a context (:meth:`bound`), the stored API keys and
    app portal tokens."""

    def __init__(self, admin_digest: bytes, ctx: Context | None = None) -> None:
        self._admin = admin_digest
        self._ctx = ctx

    @classmethod
    def admin(cls, token: str) -> ApiKeys:
        return cls(token_digest(token.encode()))

    def bound(self, ctx: Context) -> ApiKeys:
        """These keys, and the ones stored in ``ctx``'s database."""
        return ApiKeys(self._admin, ctx)

    async def principal(self, token: bytes) -> Principal | None:
        """Who ``token`` is, or ``None`` for a token the API does not know (or expired)."""
        if hmac.compare_digest(token_digest(token), self._admin):
            return ADMIN_PRINCIPAL
        if self._ctx is None:
            return None
        return await tokens.find(self._ctx, token)

    async def authorization(self, header: bytes) -> Principal | None:
        """The principal of an ``Authorization: Bearer <token>`` header's value: the scheme in
        any case and spaces around the token ignored, so every form this accepts is the same
        caller (``api.idempotency`` keys its cache on its name)."""
        scheme, _, token = header.partition(b" ")
        if scheme.lower() != b"bearer":
            return None
        return await self.principal(token.strip())


async def principal_of(scope: Scope, keys: ApiKeys) -> Principal | None:
    """The request's principal, resolved on first use and kept in its scope."""
    if PRINCIPAL in scope:
        found: Principal | None = scope[PRINCIPAL]
        return found
    principal = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            principal = await keys.authorization(value)
            break
    scope[PRINCIPAL] = principal
    record = record_of(scope)
    if record is not None and principal is not None:
        record.principal = principal.name  # for the request's log line: an id, never a token
    return principal


async def authenticated(scope: Scope, keys: ApiKeys) -> Principal:
    """The request's principal; 401 without a valid token."""
    principal = await principal_of(scope, keys)
    if principal is not None:
        return principal
    if not any(name == b"authorization" for name, _ in scope["headers"]):
        raise HTTPException(401, "missing Authorization header (Bearer token)", headers=CHALLENGE)
    raise HTTPException(401, "invalid token", headers=CHALLENGE)


async def check(
    ctx: Context, principal: Principal, rule: Rule, method: str, app_ref: str | None
) -> None:
    """Refuse what ``rule`` does not allow ``principal``: another application (``app_ref``, the
    path's) answers 404 as a missing one does, a missing capability 403."""
    if principal.full_admin:
        return
    if (
        rule.in_app
        and principal.app_id is not None
        and (app_ref is None or not await tokens.owns_app(ctx, principal, app_ref))
    ):
        raise not_found(app_ref or "")
    if not allows(principal, rule, method):
        raise Forbidden(_refusal(principal))


def _refusal(principal: Principal) -> str:
    if principal.kind == "portal":
        return "this app portal token's capabilities do not cover this route"
    return f"an API key of scope {principal.scope.value!r} may not use this route"


async def authenticate(request: Request) -> Principal:
    """Any principal (the admin token, an API key, a portal token); 401 without one."""
    return await authenticated(request.scope, request.app.state.api_keys)


PrincipalDep = Annotated[Principal, Depends(authenticate)]


async def require_admin(principal: PrincipalDep) -> Principal:
    """Full admins only: the admin token or an API key of scope ``admin``."""
    if not principal.full_admin:
        raise Forbidden(_refusal(principal))
    return principal


async def authorize(request: Request, principal: PrincipalDep) -> Principal:
    """The route's rule (``api.access.rules``; a route missing there is for full admins only)."""
    if principal.full_admin:
        return principal
    route = request.scope["route"]
    rule = rule_for(request.method, route.path_format)
    await check(
        request.app.state.ctx, principal, rule, request.method, request.path_params.get("app_id")
    )
    return principal
