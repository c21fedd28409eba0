"""The portal's route classes: the console's (``api.console.routing.ConsoleRoute``: CSRF on
every state change, service errors as pages, security headers) with the portal's visitor, its
capability table (``rules``), its pages for errors, and its headers (``frame-ancestors`` from
``HOOKD_PORTAL_FRAME_ANCESTORS``, logos from https: or data:)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from hookd.api.console.portal.render import portal_page
from hookd.api.console.portal.rules import capability_for
from hookd.api.console.portal.sessions import OPEN_COOKIE, SESSION_COOKIE, clear_cookie, visitor_of
from hookd.api.console.routing import ConsoleRoute
from hookd.api.console.security import (
    HEADERS,
    NO_STORE,
    add_headers,
    content_security_policy,
)
from hookd.api.console.sessions import context
from hookd.services.errors import Forbidden, ServiceError

# Logos of the embedding product: its own https URL or a data: image.
LOGO_SOURCES = "'self' data: https:"


def portal_headers(frame_ancestors: str) -> dict[str, str]:
    """The console's security headers with the portal's CSP. X-Frame-Options, which cannot
    name other origins, is sent only when it agrees with ``frame_ancestors``."""
    headers = {
        **HEADERS,
        "content-security-policy": content_security_policy(frame_ancestors, LOGO_SOURCES),
    }
    if frame_ancestors == "'self'":
        headers["x-frame-options"] = "SAMEORIGIN"
    elif frame_ancestors != "'none'":
        del headers["x-frame-options"]
    return headers


class PortalRoute(ConsoleRoute):
    """A portal page for a consumer with a live portal session and the route's capability."""

    sign_in_cookie = OPEN_COOKIE

    def secure(self, request: Request, response: Response) -> Response:
        ancestors = context(request).settings.portal_frame_ancestors
        cache = response.headers.get("cache-control", NO_STORE)  # the stylesheet's, or none
        return add_headers(response, cache=cache, headers=portal_headers(ancestors))

    async def find_visitor(self, request: Request) -> Any:
        return await visitor_of(request)

    async def signed_out(self, request: Request) -> Response:
        response = await portal_page(
            request,
            "portal/error.html",
            {
                "heading": "This portal session has ended",
                "detail": "It expired or was signed out. Open the portal again from the "
                "product that showed it to you.",
            },
            status_code=401,
            title="Session ended",
        )
        if request.cookies.get(SESSION_COOKIE):
            clear_cookie(response, request, SESSION_COOKIE)
        return response

    async def refuse(self, request: Request) -> Response:
        detail = (
            "This form was not sent by a page of this portal session (its CSRF token is "
            "missing or wrong). Reload the page and try again."
        )
        if self.public and not request.cookies.get(OPEN_COOKIE):
            # The opening form's cookie did not come back: most often a browser that blocks
            # cookies in a third-party iframe (docs/console.md, "Embedding it").
            detail = (
                "This browser did not send the portal's cookie back: it may block cookies in "
                "embedded pages. Open the portal in a window of its own."
            )
        return await portal_page(
            request,
            "portal/error.html",
            {"heading": "Refused", "detail": detail},
            status_code=403,
            title="Refused",
        )

    async def failed(self, request: Request, exc: ServiceError) -> Response:
        return await portal_page(
            request,
            "portal/error.html",
            {"heading": exc.code.replace("_", " ").capitalize(), "detail": exc.detail},
            status_code=exc.status_code,
            title="Error",
        )

    async def allowed(self, request: Request) -> ServiceError | None:
        if self.public:
            return None
        needed = capability_for(request.method, self.path)
        if needed is None:
            return Forbidden("this page is not open to portal sessions")
        if not request.state.visitor.can(needed):
            return Forbidden(f"this portal session does not have the {needed.value} capability")
        return None


class PublicPortalRoute(PortalRoute):
    """A portal page open without a session (opening the portal, its stylesheet)."""

    public = True


def portal_router() -> APIRouter:
    return APIRouter(route_class=PortalRoute, include_in_schema=False)


def public_portal_router() -> APIRouter:
    return APIRouter(route_class=PublicPortalRoute, include_in_schema=False)
