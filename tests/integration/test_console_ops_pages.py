"""The console's operating pages in-process (SQLite and PostgreSQL): the Overview (empty, then
with counters), alert rules and issues, API keys, operational webhooks, Settings. The browser
tests (tests/browser/test_console_ops.py) drive the same pages in Chromium."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import SecretStr
from sqlalchemy import insert

from hookd.api.console.charts import bar_chart, sparkline
from hookd.api.console.pages.settings import shown_value
from hookd.core.rollups import AttemptFact
from hookd.services import applications
from hookd.services.endpoints import crud as endpoints
from hookd.store import rollups
from hookd.store.codec import to_ms
from hookd.store.schema import alert_issues
from tests.integration.test_console_pages import Console, console, database_url, location

__all__ = ["console", "database_url"]  # the fixtures, imported for this module's tests


async def test_overview_empty_then_with_counters(console: Console) -> None:
    await console.sign_in()
    assert location(await console.get("/console")) == "/console/overview"
    empty = await console.get("/console/overview")
    assert empty.status_code == 200
    assert "Nothing in this period yet." in empty.text and 'id="fig-success">—' in empty.text
    ctx = console.ctx
    app, _ = await applications.create_app(ctx, {"name": "Shop"})
    endpoint = await endpoints.create_endpoint(ctx, app.id, {"url": "https://example.com/h"})
    now = to_ms(ctx.clock())
    facts = [AttemptFact(endpoint.id, app.id, now, 0, 200, 1)] * 3 + [
        AttemptFact(endpoint.id, app.id, now, 2, 500, 1)
    ]
    async with ctx.db.write() as conn:
        await rollups.add_attempts_async(conn, facts)
    for span in ("1h", "24h", "7d"):
        shown = await console.get(f"/console/overview?span={span}")
        assert 'id="fig-success">75.0%' in shown.text, span
        assert '<title id="deliveries-title">Deliveries</title>' in shown.text
        assert "3 succeeded, 1 failed" in shown.text
    listed = await console.get(f"/console/apps/{app.id}/endpoints")
    assert 'class="sparkline"' in listed.text and "latest 75%" in listed.text


async def test_alert_rule_issue_and_api_key_pages(console: Console) -> None:
    await console.sign_in()
    await console.get("/console/alerts/rules/new")
    refused = await console.post(
        "/console/alerts/rules/new", {"name": "r", "kind": "failure_rate", "threshold": "200"}
    )
    assert refused.status_code == 422 and "threshold" in refused.text.lower()
    created = await console.post(
        "/console/alerts/rules/new", {"name": "Failing", "kind": "failure_rate", "enabled": "on"}
    )
    assert location(created).startswith("/console/alerts?notice=rule-created")
    listed = await console.get("/console/alerts")
    assert "Failing" in listed.text and "50 over 300 s" in listed.text  # the kind's defaults
    rule_id = listed.text.split("/console/alerts/rules/")[2].split('"')[0]
    now = to_ms(console.ctx.clock())
    async with console.ctx.db.write() as conn:
        await conn.execute(
            insert(alert_issues).values(
                id="iss_console",
                rule_id=rule_id,
                subject="ep_x",
                app_id="app_x",
                kind="failure_rate",
                scope="global",
                status="open",
                value=80.0,
                peak_value=80.0,
                threshold=50.0,
                summary="80% of attempts failed",
                opened_at=now,
                updated_at=now,
            )
        )
    issues = await console.get("/console/alerts/issues")
    assert (
        "80% of attempts failed" in issues.text
        and "/console/apps/app_x/messages?endpoint=ep_x&amp;status=fail" in issues.text
    )
    moved = await console.post("/console/alerts/issues/iss_console/acknowledge", {"state": "open"})
    assert location(moved) == "/console/alerts/issues?state=open&notice=issue-acknowledged"
    await console.get("/console/alerts/issues")
    resolved = await console.post("/console/alerts/issues/iss_console/resolve")
    assert "issue-resolved" in location(resolved)
    assert "No unresolved issues." in (await console.get("/console/alerts/issues")).text

    await console.get("/console/api-keys")
    made = await console.post("/console/api-keys", {"name": "ci", "scope": "read_only"})
    assert made.status_code == 201
    token = made.text.split('id="new-token">')[1].split("<")[0]
    assert token.startswith("hookd_") or len(token) > 20
    again = await console.get("/console/api-keys")
    assert token not in again.text and "ci" in again.text
    bad = await console.post("/console/api-keys", {"name": "x", "scope": "application"})
    assert bad.status_code == 422


async def test_operational_webhooks_and_settings(console: Console) -> None:
    await console.sign_in()
    await console.get("/console/operational/new")
    made = await console.post(
        "/console/operational/new",
        {"url": "https://ops.example.com/hook", "event_types": "endpoint.disabled"},
    )
    assert "operational-created" in location(made)
    listed = await console.get("/console/operational")
    assert "https://ops.example.com/hook" in listed.text and "endpoint.disabled" in listed.text
    shown = await console.get("/console/settings")
    assert shown.status_code == 200 and "HOOKD_DATABASE_URL" in shown.text
    assert "Security" in shown.text and "Delivery" in shown.text


async def test_alert_channels_created_listed_masked_and_deleted(console: Console) -> None:
    await console.sign_in()
    await console.get("/console/alerts/channels")
    refused = await console.post(
        "/console/alerts/channels", {"name": "x", "type": "slack", "target": "not a url"}
    )
    assert refused.status_code == 422 and 'class="error-box"' in refused.text
    url = "http://ops:pw-secret-123@127.0.0.1:9/alerts"
    made = await console.post(
        "/console/alerts/channels", {"name": "Pager", "type": "webhook", "target": url}
    )
    assert "channel-created" in location(made)
    listed = await console.get("/console/alerts/channels")
    assert "Pager" in listed.text and "pw-secret-123" not in listed.text
    channel_id = listed.text.split("/console/alerts/channels/")[1].split("/")[0]
    gone = await console.post(f"/console/alerts/channels/{channel_id}/delete")
    assert "channel-deleted" in location(gone)
    assert "No alert channels yet." in (await console.get("/console/alerts/channels")).text


def test_secret_settings_are_never_shown() -> None:
    assert shown_value("main_key", SecretStr("k" * 43)) == "set (hidden)"
    assert shown_value("admin_token", "tok_secret") == "set (hidden)"
    assert "hunter2" not in shown_value("database_url", "postgresql://u:hunter2@db/hookd")


def test_charts_say_in_words_what_they_draw() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    chart = bar_chart(
        "d",
        "Deliveries",
        (("success", "Succeeded", "ok"), ("fail", "Failed", "bad")),
        [(at, {"success": 3, "fail": 1}), (at, {"success": 0, "fail": 0})],
        period="the last hour",
    )
    assert chart.peak == 4 and len(chart.bars) == 1
    assert "3 succeeded, 1 failed" in chart.description
    line = sparkline([None, 100.0, 50.0, None, 0.0], what="success rate")
    assert len(line.lines) == 1 and len(line.dots) == 1
    assert "lowest 0%, latest 0%" in line.text
    assert sparkline([None, None], what="x").text == "X: no deliveries"
