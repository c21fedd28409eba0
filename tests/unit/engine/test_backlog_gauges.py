"""The database gauges of ``/metrics`` (``store.backlog`` through ``observability.metrics``):
due deliveries and the age of the oldest, deliveries in flight, endpoints by state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from hookd.observability.metrics import Exporter, MetricsTelemetry
from hookd.services.context import Context
from hookd.services.messages.crud import create_message
from hookd.store.codec import to_ms
from hookd.store.schema import endpoint_state, endpoints
from tests.unit.engine.fakes import SETTINGS, app_with_endpoints, sqlite_database

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[Context]:
    async with sqlite_database(tmp_path / "gauges.db") as database:
        yield Context(db=database, settings=SETTINGS, clock=lambda: NOW)


async def gauges(ctx: Context, at: datetime) -> dict[tuple[str, tuple[str, ...]], float]:
    exporter = Exporter(MetricsTelemetry(), None)
    exporter.state.bind(ctx.db, lambda: at)
    text = (await exporter.exposition()).decode()
    return {
        (s.name, tuple(s.labels.values())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_due_deliveries_and_the_oldest_ones_age(ctx: Context) -> None:
    app_id, _ = await app_with_endpoints(ctx, 4)
    await create_message(ctx, app_id, payload=b"{}", event_type="a.b")  # 4 deliveries, due now
    assert (await gauges(ctx, NOW - timedelta(seconds=1)))[("hookd_deliveries_due", ())] == 0

    later = await gauges(ctx, NOW + timedelta(seconds=90))
    assert later[("hookd_deliveries_due", ())] == 4
    assert later[("hookd_deliveries_oldest_due_age_seconds", ())] == 90
    assert later[("hookd_deliveries_in_flight", ())] == 0


async def test_endpoints_by_state(ctx: Context) -> None:
    _, [healthy, failing, open_, disabled] = await app_with_endpoints(ctx, 4)
    now_ms = to_ms(NOW)
    async with ctx.db.write() as conn:
        closes = now_ms + 60_000
        rows = [(healthy, 0, None), (failing, 2, None), (open_, 9, closes), (disabled, 9, closes)]
        await conn.execute(
            endpoint_state.insert(),
            [{"endpoint_id": e, "failures": f, "open_until": until} for e, f, until in rows],
        )
        await conn.execute(
            update(endpoints).where(endpoints.c.id == disabled).values(disabled=True)
        )
    found = await gauges(ctx, NOW)
    by_state = {labels[0]: v for (name, labels), v in found.items() if name == "hookd_endpoints"}
    assert by_state == {"healthy": 1, "failing": 1, "breaker_open": 1, "disabled": 1}
    # Once the cool-down is over the circuit is no longer open: the endpoint is failing.
    after = await gauges(ctx, NOW + timedelta(minutes=2))
    assert after[("hookd_endpoints", ("failing",))] == 2
    assert after[("hookd_alert_issues_open", ())] == 0
