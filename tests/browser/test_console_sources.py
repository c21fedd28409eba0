"""The console's Sources pages, request inspector and Calls page in a real browser: a GitHub
source made in the console (its form generated from the provider's description), a signed and a
badly signed request arriving live in the inspector, one opened (headers, body as text) and
replayed, a filtered bulk replay, the source edited and deleted; a call tried against a local
receiver with its mapped answer; bad input as 4xx pages; accessibility (axe-core) and
screenshots in both themes."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Literal

import httpx
import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import (
    Visit,
    api,
    axe_violations,
    publish_screenshots,
    screenshot,
    until,
    visit,
)
from tests.support import HookdServer, Received, Receiver

SECRET = "It's a Secret to Everybody"
SCHEMES: tuple[Literal["light", "dark"], ...] = ("light", "dark")


def github_post(url: str, body: bytes, *, secret: str, delivery: str) -> httpx.Request:
    """A request as GitHub sends it, signed with ``secret``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": f"sha256={digest}",
    }
    return httpx.Request("POST", url, content=body, headers=headers)


async def send(request: httpx.Request) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.send(request)


async def make_github_source(v: Visit, name: str) -> str:
    """Create a GitHub source in the console; return its id (the inspector is its page)."""
    page = v.page
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Sources").click()
    await page.get_by_role("link", name="New source").click()
    # The generic receiver's fields first; picking GitHub swaps in GitHub's (htmx).
    await expect(page.get_by_label("Authentication")).to_be_visible()
    # Fields that apply only to some authentication show only with it.
    await expect(page.get_by_label("Signature header")).to_be_visible()
    await expect(page.get_by_label("Username")).to_be_hidden()
    await page.get_by_label("Authentication").select_option("basic")
    await expect(page.get_by_label("Username")).to_be_visible()
    await expect(page.get_by_label("Signature header")).to_be_hidden()
    await page.get_by_label("Provider", exact=True).select_option("github")
    await expect(page.get_by_label("Accept SHA-1 signatures")).to_be_visible()
    await expect(page.get_by_label("Authentication")).to_have_count(0)
    await page.get_by_label("Name", exact=True).fill(name)
    await page.get_by_role("button", name="Create source").click()
    # The secret is required: the provider's parser says so under the field.
    await expect(page.get_by_role("alert")).to_have_text("Secret: is required")
    await page.get_by_label("Secret").fill(SECRET)
    await page.get_by_role("button", name="Create source").click()
    await expect(page.get_by_role("status").first).to_contain_text("Source created.")
    return page.url.split("/console/sources/")[1].split("?")[0]


async def wait_live(page: Page) -> None:
    """The inspector follows the source (the stream's ``ready`` event arrived)."""
    await expect(page.locator("#live-status")).to_have_text("live")


async def test_a_source_made_in_the_console_shows_its_requests_live(
    browser: Browser, console_server: HookdServer, module_receiver: Receiver
) -> None:
    receiver = module_receiver
    receiver.default = 204
    v = await visit(browser, console_server)
    page = v.page
    await v.sign_in()
    source_id = await make_github_source(v, "GitHub <b>issues</b>")
    await expect(page.get_by_role("heading", level=1)).to_have_text("GitHub <b>issues</b>")
    ingest_url = (await page.locator("#ingest-url").text_content() or "").strip()
    assert ingest_url.startswith(console_server.url + "/in/")
    # A forwarding endpoint (made through the Ingest API: its form is another page's).
    async with api(console_server) as client:
        made = await client.post(
            f"/ingest/api/v1/source/{source_id}/endpoint", json={"url": receiver.url}
        )
        assert made.status_code == 201, made.text
    await page.reload()
    await expect(page.locator("#forwards-heading")).to_be_visible()
    await expect(page.get_by_role("link", name=receiver.url)).to_be_visible()
    await wait_live(page)

    # Signed correctly, with markup in the body; then badly signed. Both appear, no reload.
    body = json.dumps({"action": "opened", "title": "<script>alert('xss')</script>"}).encode()
    good = await send(github_post(ingest_url, body, secret=SECRET, delivery="d-1"))
    assert good.status_code == 200, good.text
    bad = await send(
        github_post(ingest_url, b'{"action":"closed"}', secret="wrong", delivery="d-2")
    )
    assert bad.status_code == 401
    rows = page.locator("#request-rows tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_contain_text("rejected")
    await expect(rows.nth(0)).to_contain_text("signature_mismatch")
    await expect(rows.nth(1)).to_contain_text("accepted")
    await expect(rows.nth(1)).to_contain_text("verified")
    await expect(rows.nth(1)).to_contain_text("POST")
    await receiver.wait_for(1)

    # The filter: only the rejected one.
    await page.get_by_label("rejected").first.check()
    await page.get_by_role("button", name="Filter").click()
    await expect(page.locator("#request-rows tr")).to_have_count(1)
    await expect(page.locator("#request-rows tr")).to_contain_text("signature_mismatch")
    # A time window that ends before them: none.
    await page.get_by_label("To (UTC)", exact=True).fill("2001-01-01T00:00:00")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.locator("#request-rows tr")).to_have_count(0)
    await expect(page.locator("#no-requests")).to_contain_text("that matches")
    await page.get_by_role("link", name="Clear").click()

    # The accepted one: headers, the body as text (pretty JSON, the markup not run), forwards.
    await page.locator("#request-rows tr", has_text="accepted").get_by_role("link").click()
    await expect(page.locator("#headers")).to_contain_text("x-github-delivery")
    await expect(page.locator("#headers")).to_contain_text("d-1")
    await expect(page.locator("#body")).to_contain_text("<script>alert('xss')</script>")
    await expect(page.locator("#body")).to_contain_text('\n  "action": "opened"')
    forwards = page.locator("#forwards tbody tr")
    await expect(forwards).to_have_count(1)

    async def delivered() -> bool:
        return "success" in (await forwards.text_content() or "")

    await until(delivered, page)
    await expect(forwards.locator("td").nth(2)).to_have_text("1")
    assert await axe_violations(page) == [], "request"

    # Replay: a second delivery to the endpoint, recorded as its second attempt.
    await page.get_by_role("button", name="Replay").click()
    await expect(page.get_by_role("status").first).to_have_text("Replayed: 1 deliveries queued.")
    second = await receiver.wait_for(2)
    assert second[1].body == body

    # The request's message lists both attempts, the replay's marked manual.
    await page.locator("dd a", has_text="msg_").click()
    attempts = page.locator("details.attempt")

    async def attempted_twice() -> bool:
        return await attempts.count() == 2

    await until(attempted_twice, page)
    await expect(attempts.first).to_contain_text("(manual)")

    # The rejected one is not forwarded unless forced.
    await v.goto(f"/console/sources/{source_id}")
    await page.locator("#request-rows tr", has_text="rejected").get_by_role("link").click()
    await expect(page.get_by_text("Not forwarded: it failed verification.")).to_be_visible()
    await page.get_by_role("button", name="Replay").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Not verified")
    await page.go_back()
    await page.get_by_label("Forward it although it failed verification").check()
    await page.get_by_role("button", name="Replay").click()
    await expect(page.get_by_role("status").first).to_have_text("Replayed: 1 deliveries queued.")
    await receiver.wait_for(3)

    # Bulk replay of the accepted requests since an hour ago.
    await v.goto(f"/console/sources/{source_id}")
    await page.get_by_label("Replay requests received from (UTC)").fill("2000-01-01T00:00:00")
    await page.get_by_role("button", name="Replay matching requests").click()
    await expect(page.get_by_role("status").first).to_have_text(
        "1 requests replayed, 1 deliveries queued."
    )
    await receiver.wait_for(4)

    assert v.errors == [] and v.dialogs == []
    await v.context.close()


async def test_edit_and_delete_a_source(browser: Browser, console_server: HookdServer) -> None:
    v = await visit(browser, console_server)
    page = v.page
    await v.sign_in()
    source_id = await make_github_source(v, "To edit")
    await page.get_by_role("link", name="Edit").click()
    # The secret is shown masked, and kept when sent back masked.
    masked = await page.get_by_label("Secret").input_value()
    assert masked != SECRET and SECRET not in await page.content()
    await page.get_by_label("Name", exact=True).fill("Edited")
    await page.get_by_label("Accept SHA-1 signatures").check()
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status").first).to_have_text("Source saved.")
    async with api(console_server) as client:
        secret = (await client.get(f"/ingest/api/v1/source/{source_id}/secret")).json()
        source = (await client.get(f"/ingest/api/v1/source/{source_id}")).json()
    assert secret["secret"] == SECRET
    assert source["name"] == "Edited" and source["config"]["allowSha1"] is True

    # A bad value is refused under its field, nothing saved.
    await page.get_by_role("link", name="Edit").click()
    await page.get_by_label("Provider", exact=True).select_option("bin")
    await expect(page.get_by_label("Answer status")).to_be_visible()
    await page.get_by_label("Answer status").fill("204")
    await page.get_by_label("Answer body").fill("a body")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("alert")).to_have_text(
        "Answer body: must be empty: a 204 answer has no body"
    )
    await expect(page.locator("#cfg-answer-body")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Answer body")).to_have_value("a body")
    async with api(console_server) as client:
        kept = (await client.get(f"/ingest/api/v1/source/{source_id}")).json()
    assert kept["provider"] == "github"

    # Sources made through the API with a Svix type keep it when edited here.
    async with api(console_server) as client:
        typed = [
            (
                await client.post(
                    "/ingest/api/v1/source",
                    json={"name": name, "type": kind, "config": config},
                )
            ).json()
            for name, kind, config in (
                ("Clerk", "clerk", {"secret": "whsec_" + "A" * 32}),
                ("Via generic", "generic-webhook", {"provider": "github", "secret": SECRET}),
            )
        ]
    for made in typed:
        await v.goto(f"/console/sources/{made['id']}/edit")
        await page.get_by_label("Name", exact=True).fill(made["name"] + " (edited)")
        await page.get_by_role("button", name="Save").click()
        await expect(page.get_by_role("status").first).to_have_text("Source saved.")
        async with api(console_server) as client:
            saved = (await client.get(f"/ingest/api/v1/source/{made['id']}")).json()
        assert (saved["type"], saved["provider"]) == (made["type"], made["provider"])
        assert saved["name"] == made["name"] + " (edited)"

    await v.goto(f"/console/sources/{source_id}")
    await page.get_by_role("link", name="Delete…").click()
    await page.get_by_role("button", name="Delete the source").click()
    await expect(page.get_by_role("status").first).to_have_text("Source deleted.")
    async with api(console_server) as client:
        gone = await client.get(f"/ingest/api/v1/source/{source_id}")
    assert gone.status_code == 404
    assert v.errors == []
    await v.context.close()


async def test_a_bin_shows_its_captures_live(browser: Browser, console_server: HookdServer) -> None:
    async with api(console_server) as client:
        made = (await client.post("/api/v1/bin", json={"name": "Scratch"})).json()
    v = await visit(browser, console_server)
    page = v.page
    await v.sign_in()
    await v.goto(f"/console/sources/{made['id']}")
    await expect(page.locator("#forwards-heading")).to_have_count(0)  # a bin forwards nothing
    await wait_live(page)
    async with httpx.AsyncClient(timeout=10) as client:
        captured = await client.put(made["url"] + "/any/path?x=1", content=b"plain text")
    assert captured.status_code == 200
    row = page.locator("#request-rows tr")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("PUT")
    await expect(row).to_contain_text("/any/path?x=1")
    await expect(row).to_contain_text("captured")
    assert v.errors == []
    await v.context.close()


@pytest.fixture
async def weather() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


async def test_try_a_call_and_see_the_mapped_answer(
    browser: Browser, console_server: HookdServer, weather: Receiver
) -> None:
    async def answer(received: Received) -> web.Response:
        city = received.path.rsplit("/", 1)[-1]
        return web.json_response({"weather": {"city": city, "temp": 21}})

    weather.default = answer
    async with api(console_server) as client:
        app = (await client.post("/api/v1/app", json={"name": "Weather desk"})).json()
        made = await client.post(
            f"/api/v1/app/{app['id']}/endpoint",
            json={
                "url": weather.url,
                "description": "Weather service",
                "method": "GET",
                "urlTemplate": weather.url_for("/weather/{{ params.city }}"),
                "responseMapping": {"temperature": "$.weather.temp", "city": "$.weather.city"},
            },
        )
        assert made.status_code == 201, made.text
    v = await visit(browser, console_server)
    page = v.page
    await v.sign_in()
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Calls").click()
    await page.get_by_label("Application", exact=True).select_option(label="Weather desk")
    await page.get_by_role("button", name="Show its calls").click()
    await expect(page.get_by_text("No calls made")).to_be_visible()

    # A param missing from the template: refused under the params, nothing sent.
    await page.get_by_label("Params (JSON object)").fill('{"town": "Paris"}')
    await page.get_by_role("button", name="Call", exact=True).click()
    await expect(page.get_by_role("alert")).to_contain_text("city")
    assert weather.requests == []

    await page.get_by_label("Params (JSON object)").fill('{"city": "Paris"}')
    await page.get_by_role("button", name="Call", exact=True).click()
    mapped = json.loads(await page.locator("#mapped").text_content() or "")
    assert mapped == {"temperature": 21, "city": "Paris"}
    await expect(page.locator("#answer")).to_contain_text("200")
    assert weather.requests[0].path == "/weather/Paris"
    await expect(page.locator("#call-log tbody tr")).to_have_count(1)
    await expect(page.locator("#call-log")).to_contain_text("Weather service")
    await expect(page.locator("#call-log")).to_contain_text("success")
    assert v.errors == [] and v.dialogs == []
    await v.context.close()


async def test_the_pages_are_accessible_in_both_themes(
    browser: Browser, console_server: HookdServer, tmp_path: Path
) -> None:
    weather = Receiver()
    await weather.start()
    try:
        await _accessible(browser, console_server, weather, tmp_path)
    finally:
        await weather.stop()


async def _accessible(
    browser: Browser, server: HookdServer, weather: Receiver, tmp_path: Path
) -> None:
    async def answer(received: Received) -> web.Response:
        return web.json_response({"reply": {"text": "Your order ships today."}})

    weather.default = answer
    async with api(server) as client:
        source = (
            await client.post(
                "/ingest/api/v1/source",
                json={"name": "Storefront", "type": "github", "config": {"secret": SECRET}},
            )
        ).json()
        await client.post(
            f"/ingest/api/v1/source/{source['id']}/endpoint",
            json={"url": weather.url, "description": "Order service"},
        )
        app = (await client.post("/api/v1/app", json={"name": "Support bot"})).json()
        endpoint = (
            await client.post(
                f"/api/v1/app/{app['id']}/endpoint",
                json={
                    "url": weather.url,
                    "description": "Order status",
                    "bodyTemplate": '{"order": "$session.params.order"}',
                    "responseMapping": {"text": "$.reply.text"},
                },
            )
        ).json()
    for number, secret in enumerate((SECRET, SECRET, "wrong")):
        body = json.dumps({"action": "paid", "order": 1000 + number}).encode()
        await send(github_post(source["ingestUrl"], body, secret=secret, delivery=f"a-{number}"))
    await weather.wait_for(2)
    pages = {
        "sources": "/console/sources",
        "source-new": "/console/sources/new?type=generic-webhook",
        "source-edit": f"/console/sources/{source['id']}/edit",
        "inspector": f"/console/sources/{source['id']}",
        "calls": f"/console/calls?app={app['id']}",
    }
    shown = ("inspector", "calls")
    for scheme in SCHEMES:
        v = await visit(browser, server, color_scheme=scheme)
        await v.sign_in()
        for name, path in pages.items():
            await v.goto(path)
            if name == "inspector":
                await wait_live(v.page)
            assert await axe_violations(v.page) == [], f"{name} ({scheme})"
            if name == "inspector":
                await screenshot(v.page, tmp_path / f"inspector-{scheme}.png")
        rows = v.page.locator("#request-rows tr")
        await v.goto(pages["inspector"])
        await rows.first.get_by_role("link").click()
        assert await axe_violations(v.page) == [], f"request ({scheme})"
        await v.goto(pages["calls"])
        await v.page.get_by_label("Params (JSON object)").fill('{"order": "A-1001"}')
        await v.page.get_by_role("button", name="Call", exact=True).click()
        await expect(v.page.locator("#mapped")).to_contain_text("Your order ships today.")
        assert await axe_violations(v.page) == [], f"calls answer ({scheme})"
        await screenshot(v.page, tmp_path / f"calls-{scheme}.png")
        assert v.errors == []
        await v.context.close()
    assert endpoint["id"]

    taken = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(taken) == 2 * len(shown)
    publish_screenshots(tmp_path, taken)


async def test_bad_input_is_a_clear_4xx_page(browser: Browser, console_server: HookdServer) -> None:
    async with api(console_server) as client:
        made = await client.post(
            "/ingest/api/v1/source",
            json={"name": "Bad input", "type": "github", "config": {"secret": SECRET}},
        )
        source = made.json()
    v = await visit(browser, console_server)
    page = v.page
    await v.sign_in()
    await v.goto(f"/console/sources/{source['id']}")
    csrf = await page.locator("input[name=csrf]").first.input_value()
    base = console_server.url + f"/console/sources/{source['id']}"

    unknown = await page.request.get(base + "?outcome=maybe")
    assert unknown.status == 422 and "unknown outcome" in await unknown.text()
    when = await page.request.get(base + "?after=yesterday")
    assert when.status == 422 and "From is not a date and time" in await when.text()
    no_since = await page.request.post(base + "/replay", form={"csrf": csrf})
    assert no_since.status == 422 and "Choose the time" in await no_since.text()
    unforced = await page.request.post(
        base + "/replay", form={"csrf": csrf, "since": "2000-01-01T00:00", "outcomes": "rejected"}
    )
    assert unforced.status == 422 and "set force to true" in await unforced.text()
    missing = await page.request.get(base + "/requests/req_0ESFSUO6tKtL95HBurZLYPUGMIC")
    assert missing.status == 404
    no_csrf = await page.request.post(base + "/delete", form={})
    assert no_csrf.status == 403
    bad_type = await page.request.post(
        console_server.url + "/console/sources/new",
        form={"csrf": csrf, "name": "x", "type": "fax-machine"},
    )
    assert bad_type.status == 422 and "choose a provider" in await bad_type.text()
    no_app = await page.request.post(console_server.url + "/console/calls", form={"csrf": csrf})
    assert no_app.status == 422 and "Choose an application" in await no_app.text()
    async with api(console_server) as client:
        still = await client.get(f"/ingest/api/v1/source/{source['id']}")
    assert still.status_code == 200
    await v.context.close()
