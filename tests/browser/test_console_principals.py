"""Signing in to the console with an API key, in a real browser (issue 17, "Access"): a
read-only key reads the applications and a message with every write control hidden and a forged
post refused, an application's key lands in its application's portal and reaches no other, a
revoked key's session stops, and the read-only pages pass axe-core."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import Visit, axe_violations, visit
from tests.support import TOKEN, HookdServer


@pytest.fixture(scope="module")
async def api(console_server: HookdServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=console_server.url, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as client:
        yield client


async def create_key(
    api: httpx.AsyncClient, scope: str, app_id: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": f"{scope} key", "scope": scope}
    if app_id is not None:
        body["appId"] = app_id
    created = await api.post("/api/v1/api-key", json=body)
    assert created.status_code == 201, created.text
    key: dict[str, Any] = created.json()
    return key


async def create_app(api: httpx.AsyncClient, name: str) -> str:
    made = await api.post("/api/v1/app", json={"name": name})
    assert made.status_code == 201, made.text
    app_id: str = made.json()["id"]
    return app_id


async def app_names(api: httpx.AsyncClient) -> set[str]:
    listed = await api.get("/api/v1/app", params={"limit": 250})
    return {app["name"] for app in listed.json()["data"]}


async def sign_in_with(v: Visit, token: str, lands_on: str) -> None:
    await v.goto("/console/sign-in")
    await v.page.get_by_label("Admin token or API key").fill(token)
    await v.page.get_by_role("button", name="Sign in").click()
    await v.page.wait_for_url(f"**{lands_on}")


async def test_a_read_only_key_reads_and_changes_nothing(
    browser: Browser, console_server: HookdServer, api: httpx.AsyncClient
) -> None:
    app_id = await create_app(api, "Read-only shop")
    sent = await api.post(
        f"/api/v1/app/{app_id}/msg", json={"eventType": "order.paid", "payload": {"n": 1}}
    )
    assert sent.status_code == 201, sent.text
    msg_id = sent.json()["id"]
    key = await create_key(api, "read_only")

    v = await visit(browser, console_server)
    try:
        await sign_in_with(v, key["token"], "/console/overview")
        page = v.page
        await expect(page.get_by_text("Signed in read-only")).to_be_visible()
        await v.goto("/console/apps")
        await expect(page.get_by_role("link", name="Read-only shop")).to_be_visible()
        await expect(page.get_by_role("link", name="New application")).to_be_hidden()
        await v.goto(f"/console/apps/{app_id}/messages")
        await expect(page.get_by_text(msg_id).first).to_be_visible()
        await v.goto(f"/console/apps/{app_id}/messages/{msg_id}")
        await expect(page.get_by_text("order.paid").first).to_be_visible()
        # No control that changes anything is shown: no posting form but signing out.
        visible_posts = await page.locator("form[method=post]").evaluate_all(
            "forms => forms.filter(f => f.offsetParent !== null).map(f => f.action)"
        )
        assert visible_posts == [f"{console_server.url}/console/sign-out"]
        # A form page reached anyway says why.
        await v.goto("/console/apps/new")
        await expect(page.get_by_text("signed in with a read-only key")).to_be_visible()
        await expect(page.get_by_role("button", name="Create")).to_be_hidden()

        # A forged post with this session's own CSRF token: refused, nothing made.
        csrf = await page.locator("form[action='/console/sign-out'] input[name=csrf]").input_value()
        status = await page.evaluate(
            """async (csrf) => (await fetch("/console/apps/new", {
                method: "POST", body: new URLSearchParams({csrf, name: "Forged by read-only"}),
            })).status""",
            csrf,
        )
        assert status == 403
        deleted = await page.evaluate(
            """async ([csrf, app]) => (await fetch(`/console/apps/${app}/delete`, {
                method: "POST", body: new URLSearchParams({csrf}),
            })).status""",
            [csrf, app_id],
        )
        assert deleted == 403
        names = await app_names(api)
        assert "Read-only shop" in names and "Forged by read-only" not in names
        assert v.errors == [] and v.dialogs == []

        for path in (
            "/console/apps",
            f"/console/apps/{app_id}/messages/{msg_id}",
            "/console/apps/new",
        ):
            await v.goto(path)
            assert await axe_violations(page) == [], path
    finally:
        await v.context.close()


async def test_an_application_key_opens_its_portal_only(
    browser: Browser, console_server: HookdServer, api: httpx.AsyncClient
) -> None:
    mine = await create_app(api, "Key's own app")
    theirs = await create_app(api, "Someone else's app")
    made = await api.post(
        f"/api/v1/app/{theirs}/endpoint", json={"url": "http://127.0.0.1:9/theirs"}
    )
    assert made.status_code == 201, made.text
    their_endpoint = made.json()["id"]
    key = await create_key(api, "application", mine)

    v = await visit(browser, console_server)
    try:
        await sign_in_with(v, key["token"], "/portal/endpoints")
        page = v.page
        await expect(page.get_by_text("Key's own app").first).to_be_visible()
        await expect(page.get_by_text("Someone else's app")).to_have_count(0)
        other = await page.goto(f"{console_server.url}/portal/endpoints/{their_endpoint}")
        assert other is not None and other.status == 404
        console = await page.goto(f"{console_server.url}/console/apps/{theirs}")
        assert console is not None and "/console/sign-in" in page.url  # not a console user
    finally:
        await v.context.close()


async def test_a_revoked_key_ends_its_session(
    browser: Browser, console_server: HookdServer, api: httpx.AsyncClient
) -> None:
    key = await create_key(api, "read_only")
    app_key = await create_key(api, "application", await create_app(api, "Revoked app"))
    reader = await visit(browser, console_server)
    consumer = await visit(browser, console_server)
    try:
        await sign_in_with(reader, key["token"], "/console/overview")
        await sign_in_with(consumer, app_key["token"], "/portal/endpoints")
        for revoked in (key, app_key):
            assert (await api.delete(f"/api/v1/api-key/{revoked['id']}")).status_code == 204
        await reader.goto("/console/apps")
        await reader.page.wait_for_url("**/console/sign-in?next=%2Fconsole%2Fapps")
        await expect(reader.page.get_by_text("Signed in read-only")).to_have_count(0)
        ended = await consumer.page.goto(f"{console_server.url}/portal/endpoints")
        assert ended is not None and ended.status == 401
        await expect(consumer.page.get_by_text("This portal session has ended")).to_be_visible()
    finally:
        await reader.context.close()
        await consumer.context.close()
