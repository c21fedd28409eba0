"""``/console``: the console's first page. Until the Overview page exists, the applications."""

from __future__ import annotations

from starlette.responses import RedirectResponse

from hookd.api.console.routing import console_router

router = console_router()


@router.get("/console")
@router.get("/console/")
async def home() -> RedirectResponse:
    return RedirectResponse("/console/apps", status_code=303)
