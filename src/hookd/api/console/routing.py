"""The route classes of the console's pages: what every page gets without asking.

``ConsoleRoute`` (signed-in pages): the visitor of the session cookie, or a redirect to the
sign-in page; on every state change (any method but GET and HEAD) the session's CSRF token,
else 403; service errors (404, 409, 422...) as an error page with their status; the security
headers on every answer; a read-only key's visitor, every page but those showing secrets and no
state change (:data:`READ_ONLY_CLOSED`, 403 with the error page). ``PublicConsoleRoute`` (the
sign-in pages) checks the sign-in form's own CSRF token instead of a session.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hookd.api.console.forms import read_form
from hookd.api.console.render import page
from hookd.api.console.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    SIGN_IN_COOKIE,
    add_headers,
    same_token,
)
from hookd.api.console.sessions import visitor_of
from hookd.services.errors import Forbidden, ServiceError

SAFE_METHODS = frozenset({"GET", "HEAD"})
SIGN_IN_PATH = "/console/sign-in"
SIGN_OUT_PATH = "/console/sign-out"
# What a read-only key's visitor may not open although it is a GET: what the API does not show
# a read-only key either (an endpoint's secret; its edit form holds the transformation's code
# and, with ``?reveal=1``, its secrets). Every other page is open to them; no state change is
# but signing out.
_ENDPOINT = "/console/apps/{app_id}/endpoints/{endpoint_id}"
READ_ONLY_CLOSED = frozenset({f"{_ENDPOINT}/secret", f"{_ENDPOINT}/edit"})
READ_ONLY_REFUSAL = (
    "You are signed in with a read-only API key: it reads everything but secrets and changes "
    "nothing. Sign in with the admin token or an admin key to do this."
)

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


async def _sent_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    return (await read_form(request)).get(CSRF_FIELD) or None


def refused(request: Request) -> Response:
    """403: a state change without the right CSRF token (nothing was changed)."""
    return page(
        request,
        "error.html",
        {
            "heading": "Refused",
            "detail": "This form was not sent by a page of this console session (its CSRF "
            "token is missing or wrong). Reload the page and try again.",
        },
        status_code=403,
        title="Refused",
    )


def error_page(request: Request, exc: ServiceError) -> Response:
    return page(
        request,
        "error.html",
        {"heading": exc.code.replace("_", " ").capitalize(), "detail": exc.detail},
        status_code=exc.status_code,
        title="Error",
    )


def to_sign_in(request: Request) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    query = urlencode({"next": target}) if request.method in SAFE_METHODS else ""
    url = SIGN_IN_PATH + ("?" + query if query else "")
    if request.headers.get("hx-request"):
        # htmx follows redirects inside the page; this sends the whole page to the sign-in.
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


class ConsoleRoute(APIRoute):
    """A signed-in page (see the module's docstring). The consumer portal's route class
    (``api.console.portal.routing``) changes who the visitor is, what the pages answer when
    there is none or a form is refused, and the headers: the methods below."""

    public = False
    # The double-submit cookie of the forms public routes take (sign-in).
    sign_in_cookie = SIGN_IN_COOKIE

    def get_route_handler(self) -> Handler:
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            return self.secure(request, await self.answer(request, handle))

        return route

    def secure(self, request: Request, response: Response) -> Response:
        """The security headers of every answer."""
        return add_headers(response)

    async def find_visitor(self, request: Request) -> Any:
        """The visitor of the request (None: not signed in)."""
        return await visitor_of(request)

    async def signed_out(self, request: Request) -> Response:
        return to_sign_in(request)

    async def refuse(self, request: Request) -> Response:
        return refused(request)

    async def failed(self, request: Request, exc: ServiceError) -> Response:
        return error_page(request, exc)

    async def allowed(self, request: Request) -> ServiceError | None:
        """Whether the visitor may use this route at all: a full admin, every route; a
        read-only key's visitor, reads only (see :data:`READ_ONLY_CLOSED`)."""
        if self.public or not request.state.visitor.read_only:
            return None
        if request.method in SAFE_METHODS:
            closed = self.path in READ_ONLY_CLOSED or "reveal" in request.query_params
        else:
            closed = self.path != SIGN_OUT_PATH
        return Forbidden(READ_ONLY_REFUSAL) if closed else None

    async def answer(self, request: Request, handle: Handler) -> Response:
        if self.public:
            request.state.visitor = None
            if request.method not in SAFE_METHODS and not same_token(
                await _sent_csrf(request), request.cookies.get(self.sign_in_cookie, "")
            ):
                return await self.refuse(request)
        else:
            request.state.visitor = await self.find_visitor(request)
            if request.state.visitor is None:
                return await self.signed_out(request)
            if request.method not in SAFE_METHODS and not same_token(
                await _sent_csrf(request), request.state.visitor.csrf
            ):
                return await self.refuse(request)
        try:
            denied = await self.allowed(request)
            if denied is not None:
                return await self.failed(request, denied)
            return await handle(request)
        except ServiceError as exc:  # a database outage is not one: the app answers 503
            return await self.failed(request, exc)


class PublicConsoleRoute(ConsoleRoute):
    """A page for visitors who are not signed in (sign-in, login link)."""

    public = True


def console_router() -> APIRouter:
    """The router of a signed-in page module."""
    return APIRouter(route_class=ConsoleRoute, include_in_schema=False)


def public_router() -> APIRouter:
    """The router of a page open to visitors who are not signed in."""
    return APIRouter(route_class=PublicConsoleRoute, include_in_schema=False)
