"""The console's endpoint form and message pages in a real browser: an endpoint made in the
form with a filter, headers, a rate limit and authentication; a message delivered, a failing
attempt with its response body, resend, the secret rotated, the transformation's test run,
recover since a time, a bulk replay's progress to its result; a payload holding markup shown as
text; state changes without the CSRF token refused; accessibility (axe-core) and the
screenshots docs/console.md shows."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Literal

from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import (
    Visit,
    answer,
    api,
    axe_violations,
    publish_screenshots,
    recover_failed,
    screenshot,
    until,
    visit,
)
from tests.support import HookdServer, Receiver

PASSWORD = "correct-horse-battery-staple"


async def _new_app(v: Visit, name: str) -> str:
    page = v.page
    await v.goto("/console/apps/new")
    await page.get_by_label("Name", exact=True).fill(name)
    await page.get_by_role("button", name="Create application").click()
    await expect(page.get_by_role("status")).to_have_text("Application created.")
    return page.url.split("/console/apps/")[1].split("/")[0]


async def _send(server: HookdServer, app_id: str, payload: object, **extra: object) -> str:
    async with api(server) as client:
        sent = await client.post(
            f"/api/v1/app/{app_id}/msg",
            json={"eventType": "invoice.paid", "payload": payload, **extra},
        )
    assert sent.status_code == 201, sent.text
    message_id: str = sent.json()["id"]
    return message_id


async def _status_is(page: Page, text: str) -> None:
    delivery = page.locator("table").first
    await until(lambda: delivery.get_by_text(text, exact=True).is_visible(), page)


async def test_endpoint_form_delivery_failure_resend_rotate_transform_recover_and_replay(
    browser: Browser, console_server: HookdServer, module_receiver: Receiver
) -> None:
    receiver = module_receiver
    receiver.default = 204
    v = await visit(browser, console_server)
    page = v.page
    await v.sign_in()
    app_id = await _new_app(v, "Billing")

    # The form: a refused filter is shown next to its field (the service's 422), nothing made.
    await v.goto(f"/console/apps/{app_id}/endpoints/new")
    await page.get_by_label("URL", exact=True).fill(receiver.url)
    await page.get_by_label("Description").fill("Billing receiver")
    await page.get_by_label("Filter (JSON)").fill('{"body": {"amount": {"$bogus": 1}}}')
    await page.get_by_label("Rate limit (messages per second)").fill("100")
    await page.get_by_label("Headers sent with every request").fill(
        "X-Team: billing\nX-Api-Key: sekrit-header-value"
    )
    await page.get_by_label("How hookd authenticates").select_option("basic")
    await page.get_by_label("Basic: username").fill("hookd")
    await page.get_by_label("Basic: password").fill(PASSWORD)
    await page.get_by_role("button", name="Create endpoint").click()
    await expect(page.get_by_label("Filter (JSON)")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#filter-error")).to_contain_text("$bogus")
    # What was typed comes back, but never a secret: those are typed again.
    await expect(page.get_by_label("Rate limit (messages per second)")).to_have_value("100")
    await expect(page.get_by_label("Basic: password")).to_have_value("")
    await expect(page.get_by_label("Headers sent with every request")).to_have_value(
        "X-Team: billing\nX-Api-Key: ****"
    )
    assert PASSWORD not in await page.content()
    assert "sekrit-header-value" not in await page.content()
    # Malformed JSON is a 422 on the field too (never a 500).
    await page.get_by_label("Filter (JSON)").fill("{not json")
    await page.get_by_label("Headers sent with every request").fill(
        "X-Team: billing\nX-Api-Key: sekrit-header-value"
    )
    await page.get_by_label("Basic: password").fill(PASSWORD)
    response = await _submit(page, "Create endpoint")
    assert response == 422
    await expect(page.locator("#filter-error")).to_contain_text("not valid JSON")

    await page.get_by_label("Filter (JSON)").fill('{"body": {"amount": {"$gte": 100}}}')
    await page.get_by_label("Headers sent with every request").fill(
        "X-Team: billing\nX-Api-Key: sekrit-header-value"
    )
    await page.get_by_label("Basic: password").fill(PASSWORD)
    await page.get_by_role("button", name="Create endpoint").click()
    await expect(page.get_by_role("status")).to_have_text("Endpoint created.")
    endpoint_id = page.url.split("/endpoints/")[1].split("?")[0]
    facts = page.locator("dl.facts")
    await expect(facts).to_contain_text("100 per second")
    await expect(facts).to_contain_text("HTTP Basic")
    async with api(console_server) as client:
        stored = (await client.get(f"/api/v1/app/{app_id}/endpoint/{endpoint_id}")).json()
    assert stored["filter"] == {"body": {"amount": {"$gte": 100}}}
    assert stored["rateLimit"] == 100
    assert stored["auth"]["type"] == "basic" and stored["auth"]["username"] == "hookd"

    # The edit form shows every setting, secrets masked.
    await page.get_by_role("link", name="Edit", exact=True).click()
    await expect(page.get_by_label("Filter (JSON)")).to_have_value(
        re.compile(r'"\$gte": 100', re.MULTILINE)
    )
    await expect(page.get_by_label("Basic: password")).to_have_value(re.compile(r"^\*\*\*\*"))
    await expect(page.get_by_label("Headers sent with every request")).to_contain_text(
        "X-Api-Key: ****"
    )
    assert PASSWORD not in await page.content()
    assert "sekrit-header-value" not in await page.content()
    # Revealed when asked, and masked again.
    await page.get_by_role("link", name="Reveal secrets").click()
    await expect(page.get_by_label("Basic: password")).to_have_value(PASSWORD)
    await expect(page.get_by_label("Headers sent with every request")).to_contain_text(
        "X-Api-Key: sekrit-header-value"
    )
    await page.get_by_role("link", name="Mask them again").click()
    await expect(page.get_by_label("Basic: password")).to_have_value(re.compile(r"^\*\*\*\*"))

    # The transformation's test run: the output, then an error, as text; nothing saved.
    code = page.get_by_label("Transformation code (JavaScript)")
    await code.fill(
        "function handler(request) {\n"
        '  request.body.note = "<b>checked</b>";\n'
        '  request.headers["x-checked"] = "yes";\n'
        "  return request;\n}"
    )
    await page.get_by_label("Sample payload for a test run").fill('{"amount": 150}')
    await page.get_by_role("button", name="Test the transformation").click()
    trial = page.locator("#trial")
    await expect(trial.locator("#trial-body")).to_contain_text('"note": "<b>checked</b>"')
    await expect(trial).to_contain_text("x-checked")
    await expect(trial.get_by_role("heading", name="Test run result")).to_be_focused()
    await code.fill('function handler(request) { throw new Error("no <i>way</i>"); }')
    await page.get_by_role("button", name="Test the transformation").click()
    await expect(trial.locator("#trial-error")).to_contain_text("no <i>way</i>")
    async with api(console_server) as client:
        unchanged = (await client.get(f"/api/v1/app/{app_id}/endpoint/{endpoint_id}")).json()
    assert unchanged["transformation"] is None

    # A refused TLS bundle or uid: the API's reason next to the field, a 422, nothing saved.
    await page.get_by_label("CA bundle (PEM)").fill("not a certificate")
    assert await _submit(page, "Save") == 422
    await expect(page.locator("#tls-error")).to_contain_text("caBundle")
    await page.get_by_label("CA bundle (PEM)").fill("")
    await page.get_by_label("UID").fill("no spaces allowed")
    assert await _submit(page, "Save") == 422
    await expect(page.locator("#uid-error")).to_contain_text("uid")
    await expect(page.get_by_label("UID")).to_have_attribute("aria-invalid", "true")
    await page.get_by_label("UID").fill("billing-receiver")

    # Saving keeps the masked secrets and adds the transformation.
    await code.fill(
        'function handler(request) { request.headers["x-transformed"] = "1"; return request; }'
    )
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_have_text("Endpoint saved.")
    await expect(page.locator("dl.facts")).to_contain_text("Transformation")

    # A message the filter lets through is delivered with the headers and the auth; one it
    # keeps away goes to no endpoint; a payload holding markup shows as text.
    kept_away = await _send(console_server, app_id, {"amount": 5})
    delivered = await _send(
        console_server, app_id, {"amount": 250, "note": "<script>alert('x')</script>"}
    )
    (first,) = await receiver.wait_for(1)
    headers = {name.lower(): value for name, value in first.headers.items()}
    assert headers["x-team"] == "billing"
    assert headers["x-api-key"] == "sekrit-header-value"
    assert headers["x-transformed"] == "1"
    expected = base64.b64encode(f"hookd:{PASSWORD}".encode()).decode()
    assert headers["authorization"] == f"Basic {expected}"
    await v.goto(f"/console/apps/{app_id}/messages/{kept_away}")
    await expect(page.get_by_text("No endpoint was subscribed to this message.")).to_be_visible()
    await v.goto(f"/console/apps/{app_id}/messages/{delivered}")
    await expect(page.locator("#payload")).to_contain_text(
        '"note": "<script>alert(\'x\')</script>"'
    )
    await _status_is(page, "success")

    # The receiver fails: the attempts show the status and the response body, as text.
    receiver.default = answer(500, "down: <b>maintenance</b>")
    failing = await _send(console_server, app_id, {"amount": 300})
    await v.goto(f"/console/apps/{app_id}/messages/{failing}")
    await _status_is(page, "fail")
    attempt = page.locator("details.attempt").first
    await expect(attempt.locator("summary")).to_contain_text("500")
    await expect(attempt.locator("pre.response")).to_have_text("down: <b>maintenance</b>")
    await expect(attempt.locator("table")).to_contain_text("X-Team")

    # Resend to the endpoint, answering again.
    receiver.default = 204
    await page.get_by_role("button", name=re.compile("^Resend to")).click()
    await expect(page.get_by_role("status")).to_have_text("Resent: a new attempt is on its way.")
    await _status_is(page, "success")

    # Rotate the secret.
    await v.goto(f"/console/apps/{app_id}/endpoints/{endpoint_id}")
    async with api(console_server) as client:
        before = (await client.get(f"/api/v1/app/{app_id}/endpoint/{endpoint_id}/secret")).json()
    await page.get_by_role("button", name="Rotate secret").click()
    await expect(page.get_by_role("status")).to_contain_text("Secret rotated.")
    async with api(console_server) as client:
        after = (await client.get(f"/api/v1/app/{app_id}/endpoint/{endpoint_id}/secret")).json()
    assert after["key"] != before["key"]

    # Recover the failed messages since a time.
    receiver.default = answer(500, "down")
    lost = await _send(console_server, app_id, {"amount": 400})
    await v.goto(f"/console/apps/{app_id}/messages/{lost}")
    await _status_is(page, "fail")
    receiver.default = 204
    await v.goto(f"/console/apps/{app_id}/endpoints/{endpoint_id}")
    await recover_failed(page)
    await v.goto(f"/console/apps/{app_id}/messages/{lost}")
    await _status_is(page, "success")

    # Bulk replay by the log's filters: three failed messages, a progress bar, the result.
    receiver.default = answer(503, "busy")
    stuck = [await _send(console_server, app_id, {"amount": 500 + n}) for n in range(3)]
    failed_log = f"/console/apps/{app_id}/messages?endpoint={endpoint_id}&status=fail"
    await v.goto(failed_log)
    rows = page.locator("tbody tr")

    async def all_failed() -> bool:
        return await rows.count() == 3

    await until(all_failed, page)
    receiver.default = 204
    arrived = len(receiver.requests)
    await page.get_by_role("button", name="Replay failed messages matching these filters").click()
    await page.wait_for_url(re.compile(r".*/messages/replay/qtask_\w+$"))
    await expect(page.get_by_label("Failed deliveries queued again")).to_be_visible()
    # htmx polls the task until it is over; the page shows its final result.
    await expect(page.locator("#replay-state")).to_have_text(
        re.compile(r"Finished: 3 of 3 failed deliveries queued again\."), timeout=20_000
    )
    await expect(page.get_by_label("Failed deliveries queued again")).to_have_attribute(
        "value", "3"
    )
    await receiver.wait_for(arrived + 3)
    for message_id in stuck:
        await v.goto(f"/console/apps/{app_id}/messages/{message_id}")
        await _status_is(page, "success")

    assert v.dialogs == []  # no markup from the data ran
    assert v.errors == []  # and the CSP refused nothing of the console's own
    await v.context.close()


async def _submit(page: Page, button: str) -> int:
    """Click a form's submit button; the status of the page it loads."""
    async with page.expect_navigation() as navigation:
        await page.get_by_role("button", name=button).click()
    response = await navigation.value
    assert response is not None
    return response.status


async def test_state_changes_without_the_csrf_token_are_refused(
    browser: Browser, console_server: HookdServer, module_receiver: Receiver
) -> None:
    async with api(console_server) as client:
        app = (await client.post("/api/v1/app", json={"name": "Guarded"})).json()
        endpoint = (
            await client.post(
                f"/api/v1/app/{app['id']}/endpoint", json={"url": module_receiver.url}
            )
        ).json()
    replays = "/api/v1/background-task?task=message.replay&limit=250"
    async with api(console_server) as client:
        earlier = (await client.get(replays)).json()["data"]
    v = await visit(browser, console_server)
    await v.sign_in()
    base = f"{console_server.url}/console/apps/{app['id']}"
    post = v.page.request.post
    forged = {
        f"{base}/endpoints/new": {"url": module_receiver.url, "description": "forged"},
        f"{base}/endpoints/{endpoint['id']}/edit": {"url": module_receiver.url, "rateLimit": "1"},
        f"{base}/endpoints/transformation-test": {"transformationCode": "x"},
        f"{base}/messages/replay": {"endpoint": endpoint["id"]},
        f"{base}/endpoints/{endpoint['id']}/secret/rotate": {},
    }
    for url, form in forged.items():
        refused = await post(url, form=form, max_redirects=0)
        assert refused.status == 403, url
        assert "CSRF token" in await refused.text()
    async with api(console_server) as client:
        listed = (await client.get(f"/api/v1/app/{app['id']}/endpoint")).json()["data"]
        tasks = (await client.get(replays)).json()["data"]
    assert [e["id"] for e in listed] == [endpoint["id"]]
    assert listed[0]["rateLimit"] is None
    assert tasks == earlier
    await v.context.close()


async def test_endpoint_form_and_message_pages_are_accessible_in_both_themes(
    browser: Browser, console_server: HookdServer, module_receiver: Receiver, tmp_path: Path
) -> None:
    receiver = module_receiver
    receiver.default = answer(500, '{"error": "out of stock"}')
    async with api(console_server) as client:
        app = (await client.post("/api/v1/app", json={"name": "Acme Store"})).json()
        endpoint = (
            await client.post(
                f"/api/v1/app/{app['id']}/endpoint",
                json={
                    "url": receiver.url,
                    "description": "Fulfilment",
                    "rateLimit": 50,
                    "filter": {"body": {"total": {"$gte": 10}}},
                    "headers": {"X-Shop": "acme", "Authorization": "Bearer hidden-value"},
                    "transformation": {
                        "code": "function handler(request) { return request; }",
                        "enabled": True,
                    },
                },
            )
        ).json()
    message_id = await _send(
        console_server,
        app["id"],
        {"order": "o-1001", "total": 42.5, "items": [{"sku": "TEA-1", "qty": 2}]},
        eventId="order-1001",
    )
    app_path = f"/console/apps/{app['id']}"
    pages = {
        "endpoint-form": f"{app_path}/endpoints/{endpoint['id']}/edit",
        "endpoint-new": f"{app_path}/endpoints/new",
        "message-detail": f"{app_path}/messages/{message_id}",
        "messages-failed": f"{app_path}/messages?endpoint={endpoint['id']}&status=fail",
    }
    shown = ("endpoint-form", "message-detail")
    schemes: tuple[Literal["light", "dark"], ...] = ("light", "dark")
    for scheme in schemes:
        v = await visit(browser, console_server, color_scheme=scheme)
        await v.sign_in()
        for name, path in pages.items():
            await v.goto(path)
            if name == "message-detail":  # the failed attempts are on the page
                await _status_is(v.page, "fail")
            assert await axe_violations(v.page) == [], f"{name} ({scheme})"
            if name == "endpoint-form":  # with the test run's result
                await v.page.get_by_role("button", name="Test the transformation").click()
                await expect(v.page.locator("#trial-body")).to_be_visible()
                assert await axe_violations(v.page) == [], f"{name} test run ({scheme})"
            if name in shown:
                await screenshot(v.page, tmp_path / f"{name}-{scheme}.png")
        # A replay's progress page, polled to its end.
        await v.goto(pages["messages-failed"])
        await v.page.get_by_role(
            "button", name="Replay failed messages matching these filters"
        ).click()
        await expect(v.page.locator("#replay-state")).to_contain_text("Finished", timeout=20_000)
        assert await axe_violations(v.page) == [], f"replay ({scheme})"
        assert v.errors == []
        await v.context.close()

    taken = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(taken) == 2 * len(shown)
    publish_screenshots(tmp_path, taken)
