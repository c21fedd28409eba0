"""Rendering a portal page: the console's Jinja2 environment and filters, the portal's layout
(``templates/portal/base.html``) with the application's name, the sections the theme and the
capabilities leave, and the theme."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from hookd.api.console.portal.sessions import THEME_COOKIE, PortalVisitor
from hookd.api.console.portal.theme import Theme, theme_of_query
from hookd.api.console.render import environment, notice_text
from hookd.api.console.sessions import context
from hookd.core.access import Capability
from hookd.services import applications as app_service
from hookd.services.errors import ServiceError

# What a capability shows (the layout and the pages hide a control its visitor lacks).
CAN = {capability.value: capability for capability in Capability}


def theme_of(request: Request) -> Theme:
    """The theme of the session (its cookie, checked again on every read)."""
    cached = getattr(request.state, "theme", None)
    if isinstance(cached, Theme):
        return cached
    theme = theme_of_query(request.cookies.get(THEME_COOKIE, ""))
    request.state.theme = theme
    return theme


async def portal_page(
    request: Request,
    template: str,
    values: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    title: str = "",
    theme: Theme | None = None,
) -> HTMLResponse:
    """``template`` in the portal's layout."""
    visitor: PortalVisitor | None = getattr(request.state, "visitor", None)
    theme = theme or theme_of(request)
    app = None
    if visitor is not None:
        try:
            app = await app_service.get_app(context(request), visitor.app_id)
        except ServiceError:
            app = None
    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            visitor=visitor,
            can=(lambda name: visitor is not None and visitor.can(CAN[name])),
            csrf=visitor.csrf if visitor is not None else "",
            portal_app=app,
            theme=theme,
            sections=theme.sections() if visitor is not None else [],
            notice=notice_text(request),
            title=title,
            **(values or {}),
        )
    )
    return HTMLResponse(html, status_code=status_code)
