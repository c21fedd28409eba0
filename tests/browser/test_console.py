"""The web console in a real browser: sign-in (token, login link) and sign-out, an application
and an endpoint created in the pages, a message delivered and its attempt shown, a failing
endpoint's response body, resend and recover, the secret revealed and rotated, an example event,
the CSRF check, escaping, the security headers, and accessibility (axe-core, the keyboard)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Literal

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import (
    answer,
    api,
    axe_violations,
    publish_screenshots,
    recover_failed,
    screenshot,
    until,
    visit,
)
from tests.launcher import run_hookd
from tests.support import HookdServer, Receiver


async def test_sign_in_with_the_token_or_a_login_link_and_sign_out(
    browser: Browser, console_server: HookdServer
) -> None:
    v = await visit(browser, console_server)
    page = v.page
    await v.goto("/")  # a browser opening hookd lands in the console's sign-in
    assert page.url == console_server.url + "/console/sign-in?next=%2Fconsole"

    await page.get_by_label("Admin token").fill("not the token")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("That token is not valid.")

    await v.sign_in()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    (session,) = [c for c in await v.context.cookies() if c["name"] == "hookd_console"]
    assert session["httpOnly"] and session["sameSite"] == "Strict" and session["path"] == "/console"
    assert not session["secure"]  # plain HTTP here; Secure over HTTPS

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("status")).to_have_text("You are signed out.")
    await v.goto("/console/apps")
    assert "/console/sign-in" in page.url
    # The session is over on the server too: its cookie alone no longer signs in.
    again = await visit(browser, console_server)
    await again.context.add_cookies([session])  # type: ignore[list-item]
    await again.goto("/console/apps")
    assert "/console/sign-in" in again.page.url

    # A one-time login link from `hookd console-link`: works once.
    printed = await asyncio.to_thread(
        run_hookd,
        [
            "console-link",
            "--database-url",
            f"sqlite:///{console_server.data_dir / 'hookd.db'}",
            "--url",
            console_server.url,
        ],
        check=True,
    )
    link = printed.stdout.strip()
    assert re.fullmatch(re.escape(console_server.url) + r"/console/link\?token=[\w-]{43}", link)
    assert "works once" in printed.stderr
    linked = await visit(browser, console_server)
    await linked.page.goto(link)
    await linked.page.get_by_role("button", name="Sign in").click()
    await linked.page.wait_for_url("**/console/overview")
    spent = await visit(browser, console_server)
    await spent.page.goto(link)
    await spent.page.get_by_role("button", name="Sign in").click()
    await expect(spent.page.get_by_role("heading", level=1)).to_have_text("This link does not work")
    for each in (v, again, linked, spent):
        assert each.errors == [] and each.dialogs == []
        await each.context.close()


async def test_deliver_fail_resend_recover_rotate_and_send_an_example(
    browser: Browser, console_server: HookdServer, module_receiver: Receiver
) -> None:
    receiver = module_receiver
    v = await visit(browser, console_server)
    page = v.page
    await v.sign_in()
    await v.goto("/console/apps")

    # An application whose name holds markup: shown as text, never run.
    await page.get_by_role("link", name="New application").click()
    await page.get_by_label("Name", exact=True).fill("Shop <script>alert('name')</script>")
    await page.get_by_label("UID").fill("shop")
    await page.get_by_role("button", name="Create application").click()
    await expect(page.get_by_role("status")).to_have_text("Application created.")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Shop <script>alert('name')</script>"
    )
    app_id = page.url.split("/console/apps/")[1].split("/")[0]

    # Search-as-you-type (htmx swaps the rows in, the address follows).
    await (
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Applications").click()
    )
    await page.get_by_label("Search by name, id or uid").fill("SHOP <scr")
    await page.wait_for_url("**/console/apps?q=SHOP*")
    await expect(page.locator("#app-rows tbody tr")).to_have_count(1)
    await page.get_by_label("Search by name, id or uid").fill("no such application")
    await expect(page.locator("#app-rows")).to_contain_text("No application matches")
    await v.goto(f"/console/apps/{app_id}/endpoints")

    # An endpoint pointing at the receiver, with custom headers.
    await page.get_by_role("link", name="New endpoint").click()
    await page.get_by_label("URL", exact=True).fill(receiver.url)
    await page.get_by_label("Description").fill("Receiver")
    await page.get_by_label("Headers sent with every request").fill(
        "X-Team: shop\nAuthorization: Bearer sekrit"
    )
    await page.get_by_role("button", name="Create endpoint").click()
    await expect(page.get_by_role("status")).to_have_text("Endpoint created.")
    endpoint_id = page.url.split("/endpoints/")[1].split("?")[0]

    # Editing: a refused value shows on the form with the service's reason; a good one is saved.
    await page.get_by_role("link", name="Edit", exact=True).click()
    await page.get_by_label("URL", exact=True).fill("ftp://127.0.0.1/x")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_label("URL", exact=True)).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#url-error")).to_be_visible()
    await page.get_by_label("URL", exact=True).fill(receiver.url)
    await page.get_by_label("Channels").fill("")
    await page.get_by_label("Rate limit (messages per second)").fill("500")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_have_text("Endpoint saved.")
    await expect(page.locator("dl.facts")).to_contain_text("500 per second")

    # A message sent through the API is delivered; its page shows the attempt.
    async with api(console_server) as client:
        created = await client.post(
            f"/api/v1/app/{app_id}/msg",
            json={
                "eventType": "order.paid",
                "eventId": "evt-1",
                "payload": {"note": "<script>alert('payload')</script>", "n": 1},
            },
        )
        assert created.status_code == 201, created.text
    (first,) = await receiver.wait_for(1)
    assert first.headers["X-Team"] == "shop"
    tabs = page.get_by_role("navigation", name="Application")
    await tabs.get_by_role("link", name="Messages").click()
    await page.get_by_label("Message id or eventId").fill("evt-1")
    await page.get_by_role("button", name="Open").click()
    await page.wait_for_url(f"**/messages/{created.json()['id']}")
    await expect(page.locator("#payload")).to_contain_text(
        '"note": "<script>alert(\'payload\')</script>"'
    )
    attempts = page.locator("details.attempt")
    await until(lambda: attempts.first.locator("summary").get_by_text("204").is_visible(), page)
    headers = attempts.first.locator("table")
    await expect(headers).to_contain_text("X-Team")
    await expect(headers).to_contain_text("webhook-id" + created.json()["id"])
    assert "sekrit" not in await page.content()  # a sensitive header's value is not shown

    # The endpoint fails: its attempts show the status and the response body, as text.
    receiver.default = answer(500, "boom: <b>not today</b>")
    async with api(console_server) as client:
        failing = await client.post(
            f"/api/v1/app/{app_id}/msg", json={"eventType": "order.paid", "payload": {"n": 2}}
        )
    failing_id = failing.json()["id"]
    await v.goto(f"/console/apps/{app_id}/messages/{failing_id}")
    delivery = page.locator("table").first
    # HOOKD_RETRY_SCHEDULE=1,1,1: four attempts, then the delivery has failed.
    await until(lambda: delivery.get_by_text("fail", exact=True).is_visible(), page)
    assert await attempts.count() == 4
    await expect(attempts.first.locator("summary")).to_contain_text("500")
    await expect(attempts.first.locator("pre.response")).to_have_text("boom: <b>not today</b>")
    await v.goto(f"/console/apps/{app_id}/endpoints")
    await expect(page.locator("tbody tr").first).to_contain_text("failing")
    await v.goto(f"/console/apps/{app_id}/messages?endpoint={endpoint_id}&status=fail")
    await expect(page.locator("tbody tr")).to_have_count(1)
    await expect(page.locator("tbody tr")).to_contain_text(failing_id)

    # Resend to the endpoint, now answering again: a manual attempt succeeds.
    receiver.default = 204
    await v.goto(f"/console/apps/{app_id}/messages/{failing_id}")
    await page.get_by_role("button", name=re.compile("^Resend to")).click()
    await expect(page.get_by_role("status")).to_have_text("Resent: a new attempt is on its way.")
    await until(lambda: delivery.get_by_text("success", exact=True).is_visible(), page)
    await expect(attempts.first.locator("summary")).to_contain_text("(manual)")
    await expect(attempts.first.locator("summary")).to_contain_text("204")

    # Recover: the failed messages since a time go again.
    receiver.default = answer(500, "down")
    async with api(console_server) as client:
        lost = await client.post(
            f"/api/v1/app/{app_id}/msg", json={"eventType": "order.paid", "payload": {"n": 3}}
        )
    await v.goto(f"/console/apps/{app_id}/messages/{lost.json()['id']}")
    await until(lambda: delivery.get_by_text("fail", exact=True).is_visible(), page)
    receiver.default = 204
    await v.goto(f"/console/apps/{app_id}/endpoints/{endpoint_id}")
    await recover_failed(page)
    await v.goto(f"/console/apps/{app_id}/messages/{lost.json()['id']}")
    await until(lambda: delivery.get_by_text("success", exact=True).is_visible(), page)

    # The secret: revealed (htmx swaps it in), rotated, revealed again.
    async def revealed() -> str:
        await page.get_by_role("button", name="Reveal secret").click()
        secret = page.locator("#secret-value")
        await expect(secret).to_be_focused()  # keyboard users land on it
        return await secret.inner_text()

    await v.goto(f"/console/apps/{app_id}/endpoints/{endpoint_id}")
    old = await revealed()
    assert old.startswith("whsec_")
    await page.get_by_role("button", name="Rotate secret").click()
    await expect(page.get_by_role("status")).to_contain_text("Secret rotated.")
    new = await revealed()
    assert new.startswith("whsec_") and new != old
    async with api(console_server) as client:
        stored = await client.get(f"/api/v1/app/{app_id}/endpoint/{endpoint_id}/secret")
    assert stored.json()["key"] == new

    # Disable and enable.
    await page.get_by_role("button", name="Disable", exact=True).click()
    await expect(page.get_by_role("status")).to_have_text(
        "Endpoint disabled: nothing is sent to it."
    )
    await expect(page.locator(".heading-row .badge").last).to_have_text("disabled")
    await page.get_by_role("button", name="Enable", exact=True).click()
    await expect(page.locator(".heading-row .badge").last).to_have_text("healthy")

    # An event type with an example, created in the catalog, sent to the endpoint.
    main_nav = page.get_by_role("navigation", name="Main")
    await main_nav.get_by_role("link", name="Event catalog").click()
    await page.get_by_role("link", name="New event type").click()
    await page.get_by_label("Name").fill("order.shipped")
    await page.get_by_label("JSON Schema of version 1").fill(
        '{"type": "object", "examples": [{"order": "o-1", "carrier": "<i>post</i>"}]}'
    )
    await page.get_by_role("button", name="Create event type").click()
    await expect(page.get_by_role("status")).to_have_text("Event type created.")
    await expect(page.get_by_label("Example 1 of version 1")).to_contain_text('"<i>post</i>"')
    before = len(receiver.requests)
    await v.goto(f"/console/apps/{app_id}/endpoints/{endpoint_id}")
    await page.get_by_label("Event type").select_option("order.shipped")
    await page.get_by_role("button", name="Send example").click()
    await expect(page.get_by_role("status")).to_have_text("Example event sent to the endpoint.")
    example = (await receiver.wait_for(before + 1))[-1]
    assert b'"carrier":"<i>post</i>"' in example.body

    # Archive and unarchive it.
    await v.goto("/console/event-types/order.shipped")
    await page.get_by_role("button", name="Archive").click()
    await expect(page.get_by_role("status")).to_have_text("Event type archived.")
    await page.get_by_role("button", name="Unarchive").click()
    await expect(page.get_by_role("status")).to_have_text("Event type brought back.")

    # Nothing above ran a script from data, and the CSP refused nothing of the console's own.
    assert v.dialogs == []
    assert v.errors == []
    await v.context.close()


async def test_a_state_change_without_the_csrf_token_is_refused(
    browser: Browser, console_server: HookdServer
) -> None:
    v = await visit(browser, console_server)
    await v.sign_in()
    post = v.page.request.post
    new_app = console_server.url + "/console/apps/new"
    missing = await post(new_app, form={"name": "forged"}, max_redirects=0)
    assert missing.status == 403
    assert "CSRF token" in await missing.text()
    wrong = await post(new_app, form={"name": "forged", "csrf": "0" * 64}, max_redirects=0)
    assert wrong.status == 403
    out = await post(console_server.url + "/console/sign-out", form={}, max_redirects=0)
    assert out.status == 403
    # The page's own token works, in the form or in htmx's header.
    token = await v.page.locator("input[name=csrf]").first.input_value()
    made = await post(new_app, form={"name": "legit", "csrf": token}, max_redirects=0)
    assert made.status == 303
    header = await post(
        new_app, form={"name": "legit too"}, headers={"X-CSRF-Token": token}, max_redirects=0
    )
    assert header.status == 303
    async with api(console_server) as client:
        names = [a["name"] for a in (await client.get("/api/v1/app?limit=250")).json()["data"]]
    assert "legit" in names and "legit too" in names and "forged" not in names

    # Every answer carries the security headers; no page has an inline script or handler.
    response = await v.page.goto(console_server.url + "/console/apps")
    assert response is not None
    headers = response.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    assert await v.page.locator("script:not([src])").count() == 0
    handlers = await v.page.evaluate(
        "[...document.querySelectorAll('*')].flatMap(e => [...e.attributes])"
        ".filter(a => a.name.startsWith('on')).length"
    )
    assert handlers == 0
    css = await v.page.request.get(console_server.url + "/console/static/console.css")
    assert css.headers["x-content-type-options"] == "nosniff"
    assert css.headers["content-type"].startswith("text/css")
    # Not signed in: a post goes to the sign-in page, changing nothing.
    stranger = await visit(browser, console_server)
    anonymous = await stranger.page.request.post(new_app, form={"name": "x"}, max_redirects=0)
    assert anonymous.status == 303
    assert anonymous.headers["location"] == "/console/sign-in"
    await v.context.close()
    await stranger.context.close()


async def _sample_data(server: HookdServer, receiver: Receiver) -> tuple[str, str, str]:
    """An application with two endpoints, an event type and delivered messages: what the
    screenshots and the accessibility checks look at."""
    receiver.default = 204
    async with api(server) as client:
        app = (await client.post("/api/v1/app", json={"name": "Acme Store", "uid": "acme"})).json()
        await client.post(
            "/api/v1/event-type",
            json={
                "name": "invoice.paid",
                "description": "An invoice was paid in full",
                "schemas": {
                    "1": {
                        "type": "object",
                        "properties": {"invoice": {"type": "string"}},
                        "examples": [{"invoice": "in_1001", "amount": 4200, "currency": "EUR"}],
                    }
                },
            },
        )
        endpoint = (
            await client.post(
                f"/api/v1/app/{app['id']}/endpoint",
                json={
                    "url": receiver.url,
                    "description": "Billing service",
                    "filterTypes": ["invoice.paid"],
                },
            )
        ).json()
        await client.post(
            f"/api/v1/app/{app['id']}/endpoint",
            json={
                "url": "https://hooks.example.com/acme",
                "description": "Old CRM",
                "disabled": True,
            },
        )
        sent = []
        for number in range(3):
            message = await client.post(
                f"/api/v1/app/{app['id']}/msg",
                json={
                    "eventType": "invoice.paid",
                    "eventId": f"inv-{1001 + number}",
                    "payload": {
                        "invoice": f"in_{1001 + number}",
                        "amount": 4200,
                        "currency": "EUR",
                    },
                    "tags": ["billing"],
                },
            )
            sent.append(message.json()["id"])
    await receiver.wait_for(3)
    return app["id"], endpoint["id"], sent[-1]


async def test_pages_are_accessible_by_keyboard_and_screen_reader_in_both_themes(
    browser: Browser, console_server: HookdServer, module_receiver: Receiver, tmp_path: Path
) -> None:
    app_id, endpoint_id, msg_id = await _sample_data(console_server, module_receiver)
    pages = {
        "applications": "/console/apps",
        "application-new": "/console/apps/new",
        "endpoints": f"/console/apps/{app_id}/endpoints",
        "endpoint": f"/console/apps/{app_id}/endpoints/{endpoint_id}",
        "endpoint-edit": f"/console/apps/{app_id}/endpoints/{endpoint_id}/edit",
        "messages": f"/console/apps/{app_id}/messages",
        "message": f"/console/apps/{app_id}/messages/{msg_id}",
        "event-catalog": "/console/event-types",
        "event-type": "/console/event-types/invoice.paid",
        "not-found": "/console/no-such-page",
    }
    shown = ("applications", "endpoints", "endpoint", "messages", "message", "event-catalog")
    schemes: tuple[Literal["light", "dark"], ...] = ("light", "dark")
    for scheme in schemes:
        v = await visit(browser, console_server, color_scheme=scheme)
        await v.goto("/console/sign-in")
        assert await axe_violations(v.page) == [], f"sign-in ({scheme})"
        await screenshot(v.page, tmp_path / f"sign-in-{scheme}.png")
        await v.sign_in()
        for name, path in pages.items():
            await v.goto(path)
            if name == "message":  # the delivered attempt is on the page
                attempt = v.page.locator("details.attempt").first
                await until(attempt.is_visible, v.page)
            assert await axe_violations(v.page) == [], f"{name} ({scheme})"
            if name in shown:
                await screenshot(v.page, tmp_path / f"{name}-{scheme}.png")
        assert v.errors == []
        await v.context.close()

    # The keyboard: the skip link comes first and leads into the content, focus is visible.
    v = await visit(browser, console_server)
    await v.sign_in()
    await v.goto("/console/apps")
    page = v.page
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="New application")).to_be_focused()
    await page.keyboard.press("Shift+Tab")
    await expect(page.get_by_role("button", name="Sign out")).to_be_focused()
    await page.keyboard.press("Shift+Tab")
    await expect(page.get_by_role("button", name="Theme: system")).to_be_focused()
    await page.keyboard.press("Enter")  # the toggle: light, dark, then the system's again
    await expect(page.locator("html")).to_have_attribute("data-theme", "light")
    await v.context.close()

    # The screenshots docs/console.md shows (written there with HOOKD_UPDATE_SCREENSHOTS=1).
    taken = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(taken) == 2 * (len(shown) + 1)
    publish_screenshots(tmp_path, taken)


async def test_delete_an_application_after_confirming(
    browser: Browser, console_server: HookdServer
) -> None:
    async with api(console_server) as client:
        app = (await client.post("/api/v1/app", json={"name": "Short-lived"})).json()
    v = await visit(browser, console_server)
    await v.sign_in()
    await v.goto(f"/console/apps/{app['id']}/edit")
    await v.page.get_by_role("link", name="Delete…").click()
    await expect(v.page.get_by_role("heading", level=1)).to_have_text("Delete Short-lived?")
    await v.page.get_by_role("button", name="Delete the application").click()
    await expect(v.page.get_by_role("status")).to_have_text("Application deleted.")
    async with api(console_server) as client:
        assert (await client.get(f"/api/v1/app/{app['id']}")).status_code == 404
    await v.context.close()


@pytest.mark.parametrize("path", ["/console/apps/app_nothing/endpoints", "/console/zzz"])
async def test_missing_things_are_a_404_page(
    browser: Browser, console_server: HookdServer, path: str
) -> None:
    v = await visit(browser, console_server)
    await v.sign_in()
    response = await v.page.goto(console_server.url + path)
    assert response is not None and response.status == 404
    await expect(v.page.get_by_role("alert")).to_be_visible()
    await v.context.close()
