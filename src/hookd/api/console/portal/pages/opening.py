"""Opening the portal with a magic link, signing out, the theme's stylesheet.

``GET /portal`` is the link's page: the key is in its fragment (``#key=``), which browsers
never send, so ``static/portal.js`` reads it, takes it out of the address bar and posts it to
``/portal/session`` with the opening form (which also takes a pasted key, without JavaScript).
That post exchanges it for the session cookie and sends the browser on to a URL without it.
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from hookd.api.console.forms import read_form
from hookd.api.console.portal.render import portal_page
from hookd.api.console.portal.routing import portal_router, public_portal_router
from hookd.api.console.portal.sessions import (
    OPEN_COOKIE,
    OPEN_COOKIE_SECONDS,
    SESSION_COOKIE,
    THEME_COOKIE,
    clear_cookie,
    portal_principal,
    set_cookie,
    token_of_key,
    visitor,
    visitor_of,
)
from hookd.api.console.portal.theme import SECTIONS, Theme, stylesheet, theme_from, theme_of_query
from hookd.api.console.render import notice, see_other
from hookd.api.console.security import new_sign_in_token
from hookd.api.console.sessions import context
from hookd.services.access import portal as access_service

router = public_portal_router()
signed_in = portal_router()
not_found = public_portal_router()
SIGNED_OUT = notice("portal-signed-out", "You are signed out of the portal.")
# The stylesheet's address holds everything it depends on: a browser may keep it a day.
THEME_CACHE = "public, max-age=86400"


def first_section(theme: Theme) -> str:
    shown = theme.sections()
    return (shown or list(SECTIONS))[0][2]


async def _open_page(
    request: Request, theme: Theme, *, error: str | None = None, status_code: int = 200
) -> Response:
    token = new_sign_in_token()
    live = await visitor_of(request) is not None
    response = await portal_page(
        request,
        "portal/open.html",
        {
            "open_csrf": token,
            "theme_query": theme.query(),
            "error": error,
            "continue_to": first_section(theme) if live else "",
        },
        status_code=status_code,
        title="Webhooks portal",
        theme=theme,
    )
    set_cookie(response, request, OPEN_COOKIE, token, max_age=OPEN_COOKIE_SECONDS)
    return response


@router.get("/portal")
@router.get("/portal/")
async def open_portal(request: Request) -> Response:
    """The magic link's page (its theme from the query parameters)."""
    return await _open_page(request, theme_from(request.query_params))


@router.post("/portal/session")
async def start_session(request: Request) -> Response:
    """Exchange the link's key (or a pasted token) for the session cookie."""
    form = await read_form(request)
    theme = theme_of_query(form.get("theme"))
    token = token_of_key(form.get("key"))
    principal = None if token is None else await portal_principal(request, token)
    if token is None or principal is None or principal.expires_at is None:
        return await _open_page(
            request,
            theme,
            error="This portal link is not valid, or it has expired. Ask for a new one.",
            status_code=401,
        )
    seconds = max(1, int((principal.expires_at - context(request).clock()).total_seconds()))
    response = see_other(first_section(theme))
    set_cookie(response, request, SESSION_COOKIE, token, max_age=seconds)
    set_cookie(response, request, THEME_COOKIE, theme.query(), max_age=seconds)
    clear_cookie(response, request, OPEN_COOKIE)
    return response


@router.get("/portal/theme.css")
async def theme_stylesheet(request: Request) -> Response:
    """The theme's CSS custom properties, written from checked values only."""
    css = stylesheet(theme_from(request.query_params))
    return Response(
        css,
        media_type="text/css",
        headers={"cache-control": THEME_CACHE},
    )


@signed_in.post("/portal/sign-out")
async def sign_out(request: Request) -> Response:
    """End the session's token (``logout``): its cookie, and the token for the API too. An
    application's API key signed in at the console is not revoked: only its cookie goes."""
    principal = visitor(request).principal
    if principal.kind == "portal":
        await access_service.logout(context(request), principal)
    response = see_other("/portal", notice_code=SIGNED_OUT)
    clear_cookie(response, request, SESSION_COOKIE)
    return response


@not_found.get("/portal/{rest:path}")
async def no_such_page(request: Request, rest: str) -> Response:
    return await portal_page(
        request,
        "portal/error.html",
        {"heading": "Not found", "detail": "There is no such page in the portal."},
        status_code=404,
        title="Not found",
    )


router.include_router(signed_in)
