"""Signing in and out: with a token (the admin token or an API key), or with a one-time login
link printed by ``hookd console-link``.

The admin token and an ``admin`` or ``read_only`` key start a console session. A key of scope
``application`` opens the consumer portal of its application instead (``api.console.portal``):
the key becomes the portal session's cookie exactly as an app portal token does, with the
capabilities its scope gives (docs/architecture.md, "Console principals")."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from hookd.api.console.forms import read_form
from hookd.api.console.portal import sessions as portal_sessions
from hookd.api.console.portal.pages.opening import first_section
from hookd.api.console.portal.theme import Theme
from hookd.api.console.render import notice, page, see_other
from hookd.api.console.routing import SIGN_IN_PATH, console_router, public_router
from hookd.api.console.security import (
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    SIGN_IN_COOKIE_SECONDS,
    clear_cookie,
    new_sign_in_token,
    set_cookie,
)
from hookd.api.console.sessions import context, principal_for_token, visitor, visitor_of
from hookd.core.access import Principal, Scope
from hookd.services import console as service

router = public_router()
signed_in = console_router()
LINK_PATH = "/console/link"
SIGNED_OUT = notice("signed-out", "You are signed out.")
HOME = "/console"


def safe_next(target: str) -> str:
    """Where to go after signing in: a console page only (never another site)."""
    if target.startswith("/console") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME


def _form_page(
    request: Request, template: str, values: dict[str, object], *, status_code: int = 200
) -> Response:
    """A sign-in form, with a fresh token of the sign-in form's CSRF cookie."""
    token = new_sign_in_token()
    response = page(
        request,
        template,
        {**values, "sign_in_csrf": token},
        status_code=status_code,
        title="Sign in",
    )
    set_cookie(response, request, SIGN_IN_COOKIE, token, max_age=SIGN_IN_COOKIE_SECONDS)
    return response


def _portal_opened(request: Request, principal: Principal, token: str) -> Response:
    """An application's key: the consumer portal of its application, the key as its session
    (checked again on every request, so revoking the key ends it)."""
    now = context(request).clock()
    seconds = int(service.SESSION_IDLE.total_seconds())
    if principal.expires_at is not None:
        seconds = max(1, min(seconds, int((principal.expires_at - now).total_seconds())))
    response = see_other(first_section(Theme()))
    portal_sessions.set_cookie(
        response, request, portal_sessions.SESSION_COOKIE, token.strip(), max_age=seconds
    )
    portal_sessions.clear_cookie(response, request, portal_sessions.THEME_COOKIE)
    clear_cookie(response, request, SIGN_IN_COOKIE)
    return response


async def _signed_in(request: Request, principal: str, target: str) -> Response:
    token, _ = await service.start_session(context(request), principal)
    response = see_other(safe_next(target))
    set_cookie(response, request, SESSION_COOKIE, token)
    clear_cookie(response, request, SIGN_IN_COOKIE)
    return response


@router.get(SIGN_IN_PATH)
async def sign_in_form(request: Request) -> Response:
    target = request.query_params.get("next", HOME)
    if await visitor_of(request) is not None:
        return see_other(safe_next(target))
    return _form_page(request, "sign_in/sign_in.html", {"next": target, "error": None})


@router.post(SIGN_IN_PATH)
async def sign_in(request: Request) -> Response:
    form = await read_form(request)
    principal = await principal_for_token(request, form.get("token"))
    if principal is None:
        return _form_page(
            request,
            "sign_in/sign_in.html",
            {"next": form.get("next", HOME), "error": "That token is not valid."},
            status_code=401,
        )
    if principal.scope is Scope.APPLICATION:
        return _portal_opened(request, principal, form.get("token"))
    return await _signed_in(request, principal.name, form.get("next", HOME))


@router.get(LINK_PATH)
async def link_form(request: Request) -> Response:
    """The link's page asks for a click: a link opened by a preview bot or a mail scanner is
    not spent by that visit."""
    return _form_page(
        request, "sign_in/link.html", {"token": request.query_params.get("token", "")}
    )


@router.post(LINK_PATH)
async def use_link(request: Request) -> Response:
    form = await read_form(request)
    principal = await service.use_link(context(request), form.get("token"))
    if principal is None:
        return page(
            request,
            "error.html",
            {
                "heading": "This link does not work",
                "detail": "A login link works once, for 10 minutes. Print a new one with "
                "`hookd console-link`, or sign in with a token.",
            },
            status_code=400,
            title="Sign in",
        )
    return await _signed_in(request, principal, HOME)


@signed_in.post("/console/sign-out")
async def sign_out(request: Request) -> Response:
    await service.end_session(context(request), visitor(request).session_token)
    response = see_other(SIGN_IN_PATH, notice_code=SIGNED_OUT)
    clear_cookie(response, request, SESSION_COOKIE)
    return response


router.include_router(signed_in)
