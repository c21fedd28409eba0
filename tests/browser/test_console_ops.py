"""The console's operating pages in a real browser: the Overview's figures and charts after
deliveries (one endpoint failing), an endpoint's sparkline, an alert rule made in the console
and its issue acknowledged and resolved, an API key created (shown once), used read-only and
revoked, the Settings page without a secret, and accessibility (axe-core) in both themes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import httpx
import pytest
from aiohttp import web
from playwright.async_api import Browser, expect

from tests.browser.conftest import (
    api,
    axe_violations,
    publish_screenshots,
    screenshot,
    until,
    visit,
)
from tests.support import MAIN_KEY, TOKEN, HookdServer, Received, Receiver

# A test value the Settings page must hide.
SMTP_PASSWORD = "smtp-pass-Zq8xv31"


@pytest.fixture(scope="module")
def ops_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HookdServer]:
    """A server whose alert rules are evaluated every second, with an SMTP login configured."""
    server = HookdServer(
        tmp_path_factory.mktemp("console-ops"),
        env={
            "HOOKD_ALERT_INTERVAL": "1",
            "HOOKD_SMTP_HOST": "127.0.0.1",
            "HOOKD_SMTP_FROM": "hookd@example.com",
            "HOOKD_SMTP_USERNAME": "hookd",
            "HOOKD_SMTP_PASSWORD": SMTP_PASSWORD,
        },
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def deliveries(ops_server: HookdServer, module_receiver: Receiver) -> tuple[str, str, str]:
    """An application with a working endpoint and a failing one, and messages sent to both:
    (application id, working endpoint id, failing endpoint id)."""

    async def respond(request: Received) -> web.Response:
        return web.Response(status=500 if request.path == "/failing" else 204)

    module_receiver.default = respond
    async with api(ops_server) as client:
        app = (await client.post("/api/v1/app", json={"name": "Acme Store"})).json()
        ok = (
            await client.post(
                f"/api/v1/app/{app['id']}/endpoint",
                json={"url": module_receiver.url_for("/ok"), "description": "Billing"},
            )
        ).json()
        failing = (
            await client.post(
                f"/api/v1/app/{app['id']}/endpoint",
                json={"url": module_receiver.url_for("/failing"), "description": "Old CRM"},
            )
        ).json()
        for number in range(4):
            sent = await client.post(
                f"/api/v1/app/{app['id']}/msg",
                json={"eventType": "invoice.paid", "payload": {"n": number}},
            )
            assert sent.status_code == 201, sent.text
    await module_receiver.wait_for(4, path="/ok")
    await module_receiver.wait_for(4, path="/failing")
    return app["id"], ok["id"], failing["id"]


async def test_the_overview_shows_figures_and_charts_after_deliveries(
    browser: Browser, ops_server: HookdServer, deliveries: tuple[str, str, str]
) -> None:
    app_id, ok_id, failing_id = deliveries
    v = await visit(browser, ops_server)
    await v.sign_in()  # the console's home is the Overview
    await v.goto("/console/overview?span=1h")
    success = v.page.locator("#fig-success")

    async def counted() -> bool:
        return (await success.inner_text()) != "—"

    await until(counted, v.page)
    rate = float((await success.inner_text()).rstrip("%"))
    assert 0 < rate < 100  # some succeeded, some failed
    assert int(await v.page.locator("#fig-failing").inner_text()) >= 1
    chart = v.page.locator("svg[role=img][aria-labelledby='deliveries-title deliveries-desc']")
    await expect(chart).to_be_visible()
    assert await chart.locator("title").text_content() == "Deliveries"
    assert "succeeded" in (await chart.locator("desc").text_content() or "")
    assert await chart.locator("rect.fill-ok").count() >= 1
    assert await chart.locator("rect.fill-bad").count() >= 1
    # The textual alternative: the same figures as a table.
    await v.page.get_by_text("Deliveries as a table").click()
    table = v.page.locator("figure.chart", has_text="Deliveries as a table").locator("table")
    await expect(table).to_be_visible()
    assert await table.locator("tbody tr").count() >= 1

    await v.goto(f"/console/apps/{app_id}/endpoints")
    row = v.page.locator("tr", has_text="Old CRM")
    spark = row.locator("svg.sparkline")
    assert "latest 0%" in (await spark.locator("title").text_content() or "")
    good = v.page.locator("tr", has_text="Billing").locator("svg.sparkline title")
    assert "latest 100%" in (await good.text_content() or "")
    assert ok_id and failing_id
    assert v.errors == [] and v.dialogs == []


async def test_an_alert_rule_made_in_the_console_opens_an_issue_acknowledged_then_resolved(
    browser: Browser, ops_server: HookdServer, deliveries: tuple[str, str, str]
) -> None:
    _, _, failing_id = deliveries
    v = await visit(browser, ops_server)
    await v.sign_in()
    await v.goto("/console/alerts")
    await v.page.get_by_role("link", name="New alert rule").click()
    page = v.page
    await page.get_by_label("Name", exact=True).fill("CRM failing")
    await page.get_by_label("Kind").select_option("failure_rate")
    await page.get_by_label("Watches").select_option("endpoint")
    await page.get_by_label("Application, endpoint or source").fill(failing_id)
    await page.get_by_label("Threshold").fill("10")
    await page.get_by_label("Window (seconds)").fill("3600")
    await page.get_by_label("Minimum volume").fill("1")
    await page.get_by_role("button", name="Create rule").click()
    await expect(page.get_by_role("status")).to_have_text("Alert rule created.")
    await expect(page.locator("tr", has_text="CRM failing")).to_contain_text("failure_rate")

    await v.goto("/console/alerts/issues")
    row = page.locator("tr", has_text="CRM failing")

    async def opened() -> bool:
        return await row.count() == 1

    await until(opened, page)
    await expect(row).to_contain_text("open")
    await row.get_by_role("button", name="Acknowledge").click()
    await expect(page.get_by_role("status")).to_have_text("Issue acknowledged.")
    await expect(row.locator(".badge").first).to_have_text("acknowledged")
    assert await row.locator("a", has_text="Messages").get_attribute("href") == (
        f"/console/apps/{deliveries[0]}/messages?endpoint={failing_id}&status=fail"
    )
    await row.get_by_role("button", name="Resolve").click()
    await expect(page.get_by_role("status")).to_have_text("Issue resolved.")
    await v.goto("/console/alerts/issues?state=resolved")
    await expect(page.locator("tr", has_text="CRM failing").locator(".badge").first).to_have_text(
        "resolved"
    )
    async with api(ops_server) as client:
        found = (await client.get("/api/v1/alert/issue", params={"status": "resolved"})).json()
    assert [issue["ruleName"] for issue in found["data"]] == ["CRM failing"]


async def test_an_api_key_is_shown_once_read_only_refused_writes_and_revoked(
    browser: Browser, ops_server: HookdServer
) -> None:
    v = await visit(browser, ops_server)
    await v.sign_in()
    await v.goto("/console/api-keys")
    page = v.page
    await page.get_by_label("Name").fill("dashboards")
    await page.get_by_label("Read-only: every read but secrets and transformations").check()
    await page.get_by_role("button", name="Create API key").click()
    token = (await page.locator("#new-token").inner_text()).strip()
    assert token
    await v.goto("/console/api-keys")  # shown once: not on the list
    await expect(page.locator("tr", has_text="dashboards")).to_contain_text("read_only")
    assert token not in await page.content()

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=ops_server.url, headers=headers, timeout=10) as client:
        assert (await client.get("/api/v1/app")).status_code == 200
        refused = await client.post("/api/v1/app", json={"name": "Not allowed"})
        assert refused.status_code == 403, refused.text
        await page.locator("tr", has_text="dashboards").get_by_role("button").click()
        await expect(page.get_by_role("status")).to_contain_text("API key revoked")
        assert (await client.get("/api/v1/app")).status_code == 401


async def test_the_settings_page_shows_no_secret(browser: Browser, ops_server: HookdServer) -> None:
    v = await visit(browser, ops_server)
    await v.sign_in()
    await v.goto("/console/settings")
    html = await v.page.content()
    for secret in (TOKEN, MAIN_KEY, SMTP_PASSWORD):
        assert secret not in html
    row = v.page.locator("tr", has_text="HOOKD_SMTP_PASSWORD")
    await expect(row.locator("td").first).to_have_text("set (hidden)")
    await expect(v.page.get_by_role("heading", name="Delivery")).to_be_visible()
    await expect(v.page.locator("tr", has_text="HOOKD_ALERT_INTERVAL")).to_contain_text("1")


async def test_operating_pages_are_accessible_in_both_themes(
    browser: Browser, ops_server: HookdServer, deliveries: tuple[str, str, str], tmp_path: Path
) -> None:
    app_id = deliveries[0]
    async with api(ops_server) as client:
        await client.post(
            "/api/v1/operational-webhook/endpoint",
            json={"url": "https://ops.example.com/hook", "eventTypes": ["endpoint.disabled"]},
        )
    pages = {
        "overview": "/console/overview",
        "overview-empty-7d": "/console/overview?span=7d",
        "endpoints-sparklines": f"/console/apps/{app_id}/endpoints",
        "alert-rules": "/console/alerts",
        "alert-rule-new": "/console/alerts/rules/new",
        "alert-issues": "/console/alerts/issues?state=resolved",
        "alert-channels": "/console/alerts/channels",
        "operational": "/console/operational",
        "operational-new": "/console/operational/new",
        "api-keys": "/console/api-keys",
        "settings": "/console/settings",
    }
    schemes: tuple[Literal["light", "dark"], ...] = ("light", "dark")
    for scheme in schemes:
        v = await visit(browser, ops_server, color_scheme=scheme)
        await v.sign_in()
        for name, path in pages.items():
            await v.goto(path)
            assert await axe_violations(v.page) == [], f"{name} ({scheme})"
        await v.goto("/console/overview")
        await v.page.get_by_text("Deliveries as a table").click()
        await screenshot(v.page, tmp_path / f"overview-{scheme}.png")
        assert v.errors == [], v.errors
    taken = sorted(p.name for p in tmp_path.glob("*.png"))
    assert taken == ["overview-dark.png", "overview-light.png"]
    publish_screenshots(tmp_path, taken)
