"""``request_served``: the wrapper reports each request's route template, never its path."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from hookd.api.served import Served
from tests.unit.engine.fakes import RecordingTelemetry


async def test_reports_method_route_template_and_status() -> None:
    app = FastAPI()

    @app.get("/api/v1/app/{app_id}")
    async def get_app(app_id: str) -> dict[str, str]:
        return {"id": app_id}

    telemetry = RecordingTelemetry()
    transport = httpx.ASGITransport(app=Served(app, telemetry))
    async with httpx.AsyncClient(transport=transport, base_url="http://hookd") as client:
        assert (await client.get("/api/v1/app/app_secret_id")).status_code == 200
        assert (await client.post("/nowhere")).status_code == 404
        await client.post("/in/src_1")  # the ingest door's route, answered before FastAPI

    assert telemetry.of("request_served") == [
        ("GET", "/api/v1/app/{app_id}", 200),
        ("POST", "", 404),
        ("POST", "/in/{source}", 404),
    ]
