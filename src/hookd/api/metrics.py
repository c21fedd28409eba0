"""``GET /metrics``: this process's Prometheus metrics on the API port, for the admin token.

The same answer as on ``HOOKD_METRICS_ADDRESS`` (``observability.metrics``), which needs no
token; 404 ``metrics_off`` when ``HOOKD_METRICS=false``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from hookd.api.errors import error
from hookd.observability.metrics import CONTENT_TYPE, Exporter

router = APIRouter(tags=["Metrics"])
PATH = "/metrics"


@router.get(PATH, include_in_schema=False)
async def metrics(request: Request) -> Response:
    exporter: Exporter | None = request.app.state.metrics
    if exporter is None:
        return error(404, "metrics are off (HOOKD_METRICS=false)", "metrics_off")
    body = await exporter.exposition()
    return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
