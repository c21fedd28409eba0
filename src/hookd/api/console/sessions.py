"""Who is using the console: the principal of a token, and the visitor of a session cookie."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from hookd.api.auth import ApiKeys
from hookd.api.console.security import SESSION_COOKIE, csrf_token
from hookd.services import console as service
from hookd.services.context import Context


async def principal_for_token(request: Request, token: str) -> str | None:
    """Who ``token`` signs in as (the principal's name), or None: the tokens the API accepts
    (``api.auth.ApiKeys``) of a full admin, the admin token or an ``admin`` API key. The one
    place the console's sign-in asks; read-only and application principals are not console
    users yet."""
    keys: ApiKeys = request.app.state.api_keys
    token = token.strip()
    if not token:
        return None
    principal = await keys.principal(token.encode())
    if principal is None or not principal.full_admin:
        return None
    return principal.name


@dataclass(frozen=True, slots=True)
class Visitor:
    """A signed-in visitor: who, and the CSRF token every form and htmx request of theirs
    sends back."""

    principal: str
    session_token: str

    @property
    def csrf(self) -> str:
        return csrf_token(self.session_token)


def context(request: Request) -> Context:
    found: Context = request.app.state.ctx
    return found


async def visitor_of(request: Request) -> Visitor | None:
    """The visitor of the request's session cookie; None when there is none or it expired."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    session = await service.find_session(context(request), token)
    return None if session is None else Visitor(session.principal, token)


def visitor(request: Request) -> Visitor:
    """The signed-in visitor of a page (``routing.ConsoleRoute`` found them before the page)."""
    found: Visitor = request.state.visitor
    return found
