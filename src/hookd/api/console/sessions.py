"""Who is using the console: the principal of a token, and the visitor of a session cookie.

A session keeps the name of the principal it was signed in as (``"admin"`` or an API key's
id); every request reads that key again (``services.access.api_keys.principal_named``), so a
key revoked or expired mid-session ends its sessions at their next request."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from hookd.api.auth import ApiKeys
from hookd.api.console.security import SESSION_COOKIE, csrf_token
from hookd.core.access import Principal, Scope
from hookd.services import console as service
from hookd.services.access import api_keys
from hookd.services.context import Context

# The scopes of a console session (an application's keys open the consumer portal instead).
CONSOLE_SCOPES = frozenset({Scope.ADMIN, Scope.READ_ONLY})


async def principal_for_token(request: Request, token: str) -> Principal | None:
    """Who ``token`` signs in as, or None: the tokens the API accepts (``api.auth.ApiKeys``)
    but app portal tokens (they open ``/portal`` with their magic link). The one place the
    console's sign-in asks. A full admin or a read-only key gets a console session; an API key
    of one application opens the consumer portal for it (``pages.sign_in``)."""
    keys: ApiKeys = request.app.state.api_keys
    token = token.strip()
    if not token:
        return None
    principal = await keys.principal(token.encode())
    if principal is None or principal.kind == "portal":
        return None
    return principal


@dataclass(frozen=True, slots=True)
class Visitor:
    """A signed-in visitor: who (the principal's name and scope, as they are now), and the
    CSRF token every form and htmx request of theirs sends back."""

    principal: str
    session_token: str
    scope: Scope = Scope.ADMIN

    @property
    def csrf(self) -> str:
        return csrf_token(self.session_token)

    @property
    def read_only(self) -> bool:
        """A read-only key's session: every page, no state change (``routing.ConsoleRoute``)."""
        return self.scope is Scope.READ_ONLY


def context(request: Request) -> Context:
    found: Context = request.app.state.ctx
    return found


async def visitor_of(request: Request) -> Visitor | None:
    """The visitor of the request's session cookie; None when there is none or it expired."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    ctx = context(request)
    session = await service.find_session(ctx, token)
    if session is None:
        return None
    # The session's key as it is now: a key revoked or expired mid-session ends the session.
    principal = await api_keys.principal_named(ctx, session.principal)
    if principal is None or principal.scope not in CONSOLE_SCOPES:
        await service.end_session(ctx, token)
        return None
    return Visitor(session.principal, token, principal.scope)


def visitor(request: Request) -> Visitor:
    """The signed-in visitor of a page (``routing.ConsoleRoute`` found them before the page)."""
    found: Visitor = request.state.visitor
    return found
