"""``ingest_outcome`` and the ingest group commit reach the telemetry of the context (a source's
unsigned request is refused, recorded and reported, with no secret or token among the values)."""

from __future__ import annotations

from pathlib import Path

from hookd.core.providers.request import Headers, InboundRequest
from hookd.services.context import Context
from hookd.services.ingest import receive as ingest
from hookd.services.ingest.sources import create_source
from tests.unit.engine.fakes import SETTINGS, RecordingTelemetry, sqlite_database

SECRET = "whsec_not_reported"


async def test_a_refused_request_is_reported(tmp_path: Path) -> None:
    async with sqlite_database(tmp_path / "ingest.db") as database:
        telemetry = RecordingTelemetry()
        ctx = Context(db=database, settings=SETTINGS, telemetry=telemetry)
        source = await create_source(
            ctx, {"name": "s", "type": "stripe", "config": {"secret": SECRET}}
        )
        request = InboundRequest(
            "POST",
            f"http://hookd/in/{source.token}",
            f"/in/{source.token}",
            (),
            Headers([("content-type", "application/json")]),
            b"{}",
            "127.0.0.1",
        )
        now = ctx.clock()
        found = await ingest.find_source(ctx, source.token, "POST", now)
        answer = await ingest.ingest(ctx, found, request, now)

    assert answer.status == 401
    [(source_id, outcome, code, status, source_type)] = telemetry.of("ingest_outcome")
    assert (source_id, outcome, status, source_type) == (source.id, "rejected", 401, source.type)
    assert code
    assert SECRET not in repr(telemetry.reports)
    assert source.token not in repr(telemetry.reports)  # the ingest URL's token is a secret
    assert ("ingest", 1, True) in telemetry.of("group_commit")
