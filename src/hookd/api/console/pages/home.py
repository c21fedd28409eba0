"""``/console``: the Overview, the console's first page. The whole server at a glance over the
last hour, day or week (``services.statistics.overview``: the rolled-up counters and the
queue's indexes, never a scan of attempts), with charts of deliveries and inbound requests."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from hookd.api.console.charts import bar_chart
from hookd.api.console.render import NavItem, page
from hookd.api.console.routing import console_router
from hookd.api.console.sessions import context
from hookd.services import statistics

router = console_router()
NAV = NavItem("Overview", "/console/overview")
PERIODS = {"1h": "the last hour", "24h": "the last 24 hours", "7d": "the last 7 days"}
DELIVERY_COLUMNS = (("success", "Succeeded", "ok"), ("fail", "Failed", "bad"))
REQUEST_COLUMNS = (
    ("accepted", "Accepted", "ok"),
    ("duplicate", "Duplicate", "warn"),
    ("rejected", "Rejected", "bad"),
)


@router.get("/console")
@router.get("/console/")
async def home() -> RedirectResponse:
    return RedirectResponse(NAV.path, status_code=303)


@router.get("/console/overview")
async def overview(request: Request) -> Response:
    span = request.query_params.get("span", "24h")
    if span not in PERIODS:
        span = "24h"
    ctx = context(request)
    found = await statistics.overview(ctx, span)
    period = PERIODS[span]
    charts = [
        bar_chart(
            "deliveries", "Deliveries", DELIVERY_COLUMNS, found.deliveries.points, period=period
        ),
        bar_chart(
            "requests", "Inbound requests", REQUEST_COLUMNS, found.requests.points, period=period
        ),
    ]
    oldest_age = (
        None if found.oldest_due is None else (ctx.clock() - found.oldest_due).total_seconds()
    )
    return page(
        request,
        "overview/overview.html",
        {
            "o": found,
            "span": span,
            "periods": PERIODS,
            "period": period,
            "charts": charts,
            "oldest_age": oldest_age,
        },
        title="Overview",
    )
