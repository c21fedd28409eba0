"""Who is using the portal: the app portal token of the session cookie, and the cookies.

A portal session is its app portal token (or an application's API key, signed in at
``/console/sign-in``): the token the magic link carries is exchanged once
for an HttpOnly cookie holding it (``/portal/session``), and every request asks
``api.auth.ApiKeys`` who it is, as the API does for a bearer token (the one-second cache of
``services.access.tokens``). So the session ends exactly when the token does: at its expiry,
at ``expire-all`` and at ``logout`` (the portal's sign-out calls it), with nothing more stored.

The cookies (docs/architecture.md, "The consumer portal"): ``Path=/portal``, HttpOnly; over
HTTPS ``SameSite=None; Secure; Partitioned``, so that they work in a third-party iframe (one
partition per embedding site, where the browser supports CHIPS), else ``SameSite=Lax`` (plain
HTTP: a top-level window or a same-site iframe). CSRF tokens, not SameSite, are the wall
against forged posts (``routing``).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import orjson
from starlette.requests import Request
from starlette.responses import Response

from hookd.api.auth import ApiKeys
from hookd.api.console.security import csrf_token, is_https
from hookd.core.access import Capability, Principal, Scope

SESSION_COOKIE = "hookd_portal"
THEME_COOKIE = "hookd_portal_theme"
OPEN_COOKIE = "hookd_portal_open"  # the opening form's double-submit CSRF token
COOKIE_PATH = "/portal"
OPEN_COOKIE_SECONDS = 600
# A magic link's key or a pasted token is short; anything longer is not one.
MAX_KEY = 2048


@dataclass(frozen=True, slots=True)
class PortalVisitor:
    """A consumer in the portal: the principal of their app portal token (one application,
    some capabilities, some feature flags) and the token, of which the CSRF token is derived."""

    principal: Principal
    token: str

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)

    @property
    def app_id(self) -> str:
        found = self.principal.app_id
        assert found is not None  # a portal principal always has one
        return found

    def can(self, capability: Capability) -> bool:
        return capability in self.principal.capabilities


def token_of_key(key: str) -> str | None:
    """The token of a magic link's ``key`` (base64 JSON ``{"appId", "token"}``, Svix's shape)
    or of a pasted token itself; None when it is neither."""
    key = key.strip()
    if not key or len(key) > MAX_KEY:
        return None
    if key.startswith("hookd_portal_"):
        return key
    try:
        decoded = orjson.loads(base64.b64decode(key + "=" * (-len(key) % 4), validate=False))
    except (binascii.Error, ValueError):
        return None
    token = decoded.get("token") if isinstance(decoded, dict) else None
    return token if isinstance(token, str) and token.startswith("hookd_portal_") else None


async def portal_principal(request: Request, token: str) -> Principal | None:
    """The principal of an app portal token, or of an API key of one application (the
    console's sign-in opens the portal with one), still valid; None for anything else (the
    admin token or another key does not open the portal)."""
    keys: ApiKeys = request.app.state.api_keys
    if not token or len(token) > MAX_KEY:
        return None
    principal = await keys.principal(token.encode())
    if principal is None or principal.app_id is None or principal.scope is not Scope.APPLICATION:
        return None
    return principal


async def visitor_of(request: Request) -> PortalVisitor | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    principal = await portal_principal(request, token)
    return None if principal is None else PortalVisitor(principal, token)


def visitor(request: Request) -> PortalVisitor:
    """The visitor of a portal page (``routing.PortalRoute`` found them before the page)."""
    found: PortalVisitor = request.state.visitor
    return found


def set_cookie(
    response: Response, request: Request, name: str, value: str, *, max_age: int
) -> None:
    """A portal cookie (see the module's docstring for its attributes)."""
    https = is_https(request)
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="none" if https else "lax",
        secure=https,
    )
    if https:  # Starlette writes Partitioned only on Python 3.14
        header, cookie = response.raw_headers[-1]
        response.raw_headers[-1] = (header, cookie + b"; Partitioned")


def clear_cookie(response: Response, request: Request, name: str) -> None:
    set_cookie(response, request, name, "", max_age=0)
