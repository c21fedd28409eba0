"""Adds the console to the app: its pages, the consumer portal's (``/portal``), its static
files and ``GET /``."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from hookd.api.console import pages
from hookd.api.console.portal.pages import ROUTERS as PORTAL_ROUTERS
from hookd.api.console.render import STATIC, STATIC_PREFIX, page
from hookd.api.console.routing import console_router
from hookd.api.console.security import add_headers

# Static URLs carry a digest of the file (render.static_url): they never change in place.
STATIC_CACHE = "public, max-age=31536000, immutable"


class ConsoleStatic(StaticFiles):
    """The console's static files, with the console's headers."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        return add_headers(
            response, cache=STATIC_CACHE if response.status_code == 200 else "no-store"
        )


not_found = console_router()


@not_found.get("/console/{rest:path}")
async def no_such_page(request: Request, rest: str) -> Response:
    return page(
        request,
        "error.html",
        {"heading": "Not found", "detail": "There is no such page in the console."},
        status_code=404,
        title="Not found",
    )


async def root() -> RedirectResponse:
    """``GET /``: a browser opening hookd's address lands in the console."""
    return RedirectResponse("/console", status_code=302)


def install(app: FastAPI) -> None:
    app.mount(STATIC_PREFIX, ConsoleStatic(directory=STATIC), name="console-static")
    app.add_api_route("/", root, methods=["GET"], include_in_schema=False)
    for module in pages.PAGES:
        app.include_router(module.router)
    app.include_router(not_found)  # last: only what no page matched
    for router in PORTAL_ROUTERS:  # the portal's own "not found" last
        app.include_router(router)
