"""The consumer portal (``/portal``) in a real browser, opened with the URL the svix SDK's
``authentication.app_portal_access`` returns: an endpoint managed there (create, edit, disable,
rotate the secret), a test event and its attempt, another application's ids (404), a token
without a capability (control hidden, post refused), CSRF, the end of a session (``expire-all``,
sign-out), embedding in an iframe with a theme, a phone's viewport, and accessibility."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, ViewportSize, expect
from svix.api import (
    ApplicationIn,
    ApplicationTokenExpireIn,
    AppPortalAccessIn,
    EndpointIn,
    EventTypeIn,
    MessageIn,
    SvixAsync,
    SvixOptions,
)
from svix.exceptions import HttpError
from svix.models import AppPortalCapability

from tests.browser.conftest import (
    Visit,
    axe_violations,
    publish_screenshots,
    screenshot,
    until,
)
from tests.support import TOKEN, HookdServer, Received, Receiver

PHONE: ViewportSize = {"width": 390, "height": 844}
EXAMPLE = {"invoice": "in_1001", "amount": 4200, "currency": "EUR"}


@pytest.fixture(scope="module")
async def embedder() -> AsyncIterator[Receiver]:
    """A product's page on another origin of the same site (127.0.0.1, another port): plain
    HTTP keeps the portal's cookies SameSite=Lax, which a same-site iframe still gets."""
    receiver = Receiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture(scope="module")
def portal_server(
    tmp_path_factory: pytest.TempPathFactory, embedder: Receiver
) -> Iterator[HookdServer]:
    server = HookdServer(
        tmp_path_factory.mktemp("portal"),
        env={"HOOKD_PORTAL_FRAME_ANCESTORS": f"'self' http://127.0.0.1:{embedder.port}"},
    )
    server.start()
    yield server
    server.stop()


def admin(server: HookdServer) -> SvixAsync:
    return SvixAsync(TOKEN, SvixOptions(server_url=server.url, retry_schedule=[]))


def with_query(url: str, **params: str) -> str:
    """The portal URL with theme parameters (before its ``#key=`` fragment)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=urlencode(params)))


async def sample(server: HookdServer, receiver: Receiver, name: str) -> tuple[str, str, str]:
    """An application with an event type (with an example), an endpoint and one delivered
    message: (app id, endpoint id, message id)."""
    svix = admin(server)
    app = await svix.application.create(ApplicationIn(name=name))
    with contextlib.suppress(HttpError):  # created by an earlier test of the module
        await svix.event_type.create(
            EventTypeIn(
                name="invoice.paid",
                description="An invoice was paid in full",
                schemas={"1": {"type": "object", "examples": [EXAMPLE]}},
            )
        )
    endpoint = await svix.endpoint.create(
        app.id, EndpointIn(url=receiver.url, description=f"{name} hooks")
    )
    message = await svix.message.create(
        app.id, MessageIn(event_type="invoice.paid", payload={"invoice": "in_1"})
    )
    return app.id, endpoint.id, message.id


async def open_portal(
    browser: Browser,
    server: HookdServer,
    app_id: str,
    *,
    capabilities: list[AppPortalCapability] | None = None,
    color_scheme: Literal["light", "dark"] = "light",
    viewport: ViewportSize | None = None,
    theme: dict[str, str] | None = None,
) -> tuple[Visit, str]:
    """A browser on the portal, opened with the SDK's magic link: (visit, the token)."""
    access = await admin(server).authentication.app_portal_access(
        app_id, AppPortalAccessIn(capabilities=capabilities)
    )
    context = await browser.new_context(
        color_scheme=color_scheme, viewport=viewport or {"width": 1280, "height": 800}
    )
    v = Visit(context, await context.new_page(), server.url)
    await v.page.goto(with_query(access.url, **theme) if theme else access.url)
    await v.page.wait_for_url("**/portal/endpoints")
    return v, access.token


async def csrf_of(page: Page) -> str:
    return await page.locator("input[name=csrf]").first.input_value()


async def test_open_manage_an_endpoint_and_follow_a_test_event(
    browser: Browser, portal_server: HookdServer, module_receiver: Receiver
) -> None:
    receiver = module_receiver

    async def thanks(_: Received) -> web.Response:
        return web.Response(status=200, text='{"thanks": "received"}')

    receiver.default = thanks
    app_id, _, _ = await sample(portal_server, receiver, "Acme Store")
    other_app, other_endpoint, other_message = await sample(portal_server, receiver, "Other")
    v, _ = await open_portal(browser, portal_server, app_id)
    page = v.page
    # The token is exchanged once and gone from the address bar and the history.
    assert "key=" not in page.url and page.url == portal_server.url + "/portal/endpoints"
    (session,) = [c for c in await v.context.cookies() if c["name"] == "hookd_portal"]
    assert session["httpOnly"] and session["path"] == "/portal"
    assert session["sameSite"] == "Lax" and not session["secure"]  # plain HTTP here
    await expect(page.locator(".brand")).to_have_text("Acme Store")

    # Add an endpoint.
    await page.get_by_role("link", name="Add endpoint").click()
    await page.get_by_label("Endpoint URL").fill(receiver.url_for("/portal-hook"))
    await page.get_by_label("Description").fill("Billing")
    await page.get_by_label("invoice.paid").check()
    await page.get_by_role("button", name="Create endpoint").click()
    await expect(page.get_by_role("status")).to_have_text("Endpoint created.")
    endpoint_id = page.url.split("/")[-1].split("?")[0]
    endpoints = await admin(portal_server).endpoint.list(app_id)
    made = next(e for e in endpoints.data if e.id == endpoint_id)
    assert made.description == "Billing" and made.event_types == ["invoice.paid"]

    # Edit it.
    await page.get_by_role("link", name="Edit").click()
    await page.get_by_label("Description").fill("Billing v2")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_have_text("Endpoint saved.")
    await expect(page.get_by_text("Billing v2")).to_be_visible()

    # Disable and enable it.
    await page.get_by_role("button", name="Disable").click()
    await expect(page.get_by_role("status")).to_contain_text("Endpoint disabled")
    assert (await admin(portal_server).endpoint.get(app_id, endpoint_id)).disabled is True
    await page.get_by_role("button", name="Enable").click()
    await expect(page.get_by_role("status")).to_have_text("Endpoint enabled.")

    # View the secret, rotate it, view the new one.
    await page.get_by_role("link", name="Reveal secret").click()
    before = (await page.locator("#secret-value").text_content() or "").strip()
    assert before == (await admin(portal_server).endpoint.get_secret(app_id, endpoint_id)).key
    await page.get_by_role("button", name="Rotate secret").click()
    await expect(page.get_by_role("status")).to_contain_text("Secret rotated.")
    after = (await admin(portal_server).endpoint.get_secret(app_id, endpoint_id)).key
    assert after != before
    await page.get_by_role("link", name="Reveal secret").click()
    await expect(page.locator("#secret-value")).to_have_text(after)

    # A transformation, checked by the services as for the API.
    await page.get_by_role("link", name="Transformation").click()
    await page.get_by_label("Code").fill("function handler(r) { return }(")
    await page.get_by_role("button", name="Save transformation").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    code = "function handler(request) { request.headers['x-portal'] = 'yes'; return request; }"
    await page.get_by_label("Code").fill(code)
    await page.get_by_label("Enabled").check()
    await page.get_by_role("button", name="Save transformation").click()
    await expect(page.get_by_role("status")).to_have_text("Transformation saved.")
    async with httpx.AsyncClient(base_url=portal_server.url) as client:
        saved = await client.get(
            f"/api/v1/app/{app_id}/endpoint/{endpoint_id}/transformation",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert saved.json() == {"code": code, "enabled": True}

    # A test event of the catalog: the message, its attempt and the response body.
    await page.get_by_label("Event type").select_option("invoice.paid")
    await page.get_by_role("button", name="Send test event").click()
    await expect(page.get_by_role("status")).to_have_text("Example event sent to the endpoint.")
    (delivered,) = await receiver.wait_for(1, path="/portal-hook")
    assert delivered.headers["x-portal"] == "yes"  # transformed
    attempt = page.locator("details.attempt").first
    await until(attempt.is_visible, page)
    await expect(attempt).to_contain_text("200")
    await expect(attempt.locator("pre.response")).to_contain_text('"thanks": "received"')
    message_id = page.url.split("/")[-1].split("?")[0]
    # Resend it.
    await page.get_by_role("button", name="Resend to").first.click()
    await expect(page.get_by_role("status")).to_contain_text("Resent")
    await receiver.wait_for(2, path="/portal-hook")

    # The log lists it; the catalog shows the event type.
    nav = page.get_by_role("navigation", name="Portal")
    await nav.get_by_role("link", name="Messages").click()
    await expect(page.get_by_role("link", name=message_id)).to_be_visible()
    await nav.get_by_role("link", name="Event catalog").click()
    await expect(page.get_by_role("heading", name="invoice.paid")).to_be_visible()

    # Another application's endpoint and message are not found, whatever the page or action.
    for path in (
        f"/portal/endpoints/{other_endpoint}",
        f"/portal/endpoints/{other_endpoint}/edit",
        f"/portal/endpoints/{other_endpoint}/secret",
        f"/portal/messages/{other_message}",
    ):
        response = await page.goto(portal_server.url + path)
        assert response is not None and response.status == 404, path
    await v.goto("/portal/endpoints")
    token = await csrf_of(page)
    for path in (
        f"/portal/endpoints/{other_endpoint}/secret/rotate",
        f"/portal/endpoints/{other_endpoint}/delete",
        f"/portal/messages/{other_message}/resend",
    ):
        forged = await page.request.post(
            portal_server.url + path,
            form={"csrf": token, "endpoint_id": other_endpoint},
            max_redirects=0,
        )
        assert forged.status == 404, path
    assert (await admin(portal_server).endpoint.get(other_app, other_endpoint)).id

    # Delete the endpoint.
    await v.goto(f"/portal/endpoints/{endpoint_id}")
    await page.get_by_role("link", name="Delete…").click()
    await page.get_by_role("button", name="Delete the endpoint").click()
    await expect(page.get_by_role("status")).to_have_text("Endpoint deleted.")
    assert v.errors == [] and v.dialogs == []
    await v.context.close()


async def test_a_missing_capability_hides_the_control_and_the_server_refuses_it(
    browser: Browser, portal_server: HookdServer, module_receiver: Receiver
) -> None:
    app_id, endpoint_id, _ = await sample(portal_server, module_receiver, "Viewer")
    secret = (await admin(portal_server).endpoint.get_secret(app_id, endpoint_id)).key
    v, _ = await open_portal(
        browser, portal_server, app_id, capabilities=[AppPortalCapability.VIEW_BASE]
    )
    page = v.page
    await expect(page.get_by_role("link", name="Add endpoint")).to_have_count(0)
    await page.get_by_role("link", name=module_receiver.url).click()
    await expect(
        page.get_by_text("Your access does not include viewing the secret.")
    ).to_be_visible()
    for name in ("Rotate secret", "Disable", "Send test event"):
        await expect(page.get_by_role("button", name=name)).to_have_count(0)
    for name in ("Edit", "Delete…", "Reveal secret", "Transformation"):
        await expect(page.get_by_role("link", name=name)).to_have_count(0)

    token = await csrf_of(page)
    rotate = await page.request.post(
        f"{portal_server.url}/portal/endpoints/{endpoint_id}/secret/rotate",
        form={"csrf": token},
        max_redirects=0,
    )
    assert rotate.status == 403
    assert "does not have the ManageEndpointSecret capability" in await rotate.text()
    shown = await page.request.get(f"{portal_server.url}/portal/endpoints/{endpoint_id}/secret")
    assert shown.status == 403
    assert secret not in await shown.text()
    assert (await admin(portal_server).endpoint.get_secret(app_id, endpoint_id)).key == secret
    await v.context.close()


async def test_csrf_headers_and_the_end_of_a_session(
    browser: Browser, portal_server: HookdServer, module_receiver: Receiver
) -> None:
    app_id, endpoint_id, _ = await sample(portal_server, module_receiver, "Guarded")
    v, token = await open_portal(browser, portal_server, app_id)
    page = v.page
    disable = f"{portal_server.url}/portal/endpoints/{endpoint_id}/enabled"
    missing = await page.request.post(disable, form={"enabled": "0"}, max_redirects=0)
    assert missing.status == 403 and "CSRF token" in await missing.text()
    wrong = await page.request.post(
        disable, form={"enabled": "0", "csrf": "0" * 64}, max_redirects=0
    )
    assert wrong.status == 403
    assert (await admin(portal_server).endpoint.get(app_id, endpoint_id)).disabled is False

    # The portal's headers: framed only by HOOKD_PORTAL_FRAME_ANCESTORS; the console never.
    response = await page.goto(portal_server.url + "/portal/endpoints")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'self' http://127.0.0.1:" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "x-frame-options" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    console = httpx.get(portal_server.url + "/console/sign-in")
    assert "frame-ancestors 'none'" in console.headers["content-security-policy"]
    assert console.headers["x-frame-options"] == "DENY"
    assert await page.locator("script:not([src])").count() == 0

    # expire-all ends the session (and the token): the next page says so.
    await admin(portal_server).authentication.expire_all(app_id, ApplicationTokenExpireIn())
    ended = await page.goto(portal_server.url + "/portal/endpoints")
    assert ended is not None and ended.status == 401
    await expect(page.get_by_role("heading", level=1)).to_have_text("This portal session has ended")
    await v.context.close()

    # Signing out ends the token for the API too (logout).
    v, token = await open_portal(browser, portal_server, app_id)
    portal_api = SvixAsync(token, SvixOptions(server_url=portal_server.url, retry_schedule=[]))
    assert (await portal_api.endpoint.get(app_id, endpoint_id)).id == endpoint_id
    await v.page.get_by_role("button", name="Sign out").click()
    await expect(v.page.get_by_role("status")).to_have_text("You are signed out of the portal.")
    async with httpx.AsyncClient(base_url=portal_server.url) as client:
        answer = await client.get(
            f"/api/v1/app/{app_id}/endpoint", headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.status_code == 401
    ended = await v.page.goto(portal_server.url + "/portal/endpoints")
    assert ended is not None and ended.status == 401
    await v.context.close()


async def test_embedded_in_an_iframe_with_the_products_theme(
    browser: Browser, portal_server: HookdServer, module_receiver: Receiver, embedder: Receiver
) -> None:
    app_id, _, _ = await sample(portal_server, module_receiver, "Embedded")
    access = await admin(portal_server).authentication.app_portal_access(
        app_id, AppPortalAccessIn()
    )
    logo = "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4="
    themed = with_query(
        access.url,
        primaryColor="#7c3aed",
        darkMode="true",
        fontFamily="Georgia",
        icon=logo,
        hide="event-types",
    )

    async def product(_: Received) -> web.Response:
        html = f'<!doctype html><title>Product</title><iframe src="{themed}"></iframe>'
        return web.Response(text=html, content_type="text/html")

    embedder.default = product
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(embedder.url_for("/settings/webhooks"))
    frame = page.frame_locator("iframe")
    await expect(frame.get_by_role("heading", name="Endpoints", level=1)).to_be_visible()
    portal = next(f for f in page.frames if f.url.startswith(portal_server.url))
    assert portal.url == portal_server.url + "/portal/endpoints"
    assert await portal.evaluate("document.documentElement.dataset.theme") == "dark"
    accent = await portal.evaluate(
        "getComputedStyle(document.documentElement).getPropertyValue('--accent').trim()"
    )
    assert accent == "#7c3aed"
    font = await portal.evaluate("getComputedStyle(document.body).fontFamily")
    assert font.startswith('"Georgia"') or font.startswith("Georgia")
    await expect(frame.locator("img.logo")).to_have_attribute("src", logo)
    await expect(frame.get_by_role("link", name="Event catalog")).to_have_count(0)
    await expect(frame.get_by_role("link", name="Messages")).to_be_visible()

    # A colour that is not one, and a logo that is not https, are ignored: nothing injected.
    bad = with_query(access.url, primaryColor="red;}body{display:none", icon="javascript:alert(1)")
    v = Visit(context, await context.new_page(), portal_server.url)
    await v.page.goto(bad)
    await v.page.wait_for_url("**/portal/endpoints")
    assert await v.page.locator("link[href^='/portal/theme.css']").count() == 0
    assert await v.page.locator("img.logo").count() == 0
    css = await v.page.request.get(
        portal_server.url + "/portal/theme.css?primaryColor=red;}body{display:none"
    )
    assert css.status == 200 and await css.text() == ""
    assert v.dialogs == [] and v.errors == []

    # A site HOOKD_PORTAL_FRAME_ANCESTORS does not name cannot frame it.
    stranger = await context.new_page()
    await stranger.goto(embedder.url_for("/x").replace("127.0.0.1", "localhost"))
    framed = stranger.frames[-1]
    await framed.wait_for_load_state()
    assert not framed.url.startswith(portal_server.url + "/portal/endpoints")
    assert await stranger.frame_locator("iframe").get_by_role("heading").count() == 0
    await context.close()


async def test_accessible_in_both_themes_and_on_a_phone(
    browser: Browser, portal_server: HookdServer, module_receiver: Receiver, tmp_path: Path
) -> None:
    module_receiver.default = 204
    app_id, endpoint_id, msg_id = await sample(portal_server, module_receiver, "Acme Store")
    await module_receiver.wait_for(1)
    pages = {
        "endpoints": "/portal/endpoints",
        "endpoint": f"/portal/endpoints/{endpoint_id}",
        "endpoint-new": "/portal/endpoints/new",
        "transformation": f"/portal/endpoints/{endpoint_id}/transformation",
        "messages": "/portal/messages",
        "message": f"/portal/messages/{msg_id}",
        "event-catalog": "/portal/event-types",
        "not-found": "/portal/no-such-page",
    }
    shown = ("endpoints", "endpoint", "message")
    schemes: tuple[Literal["light", "dark"], ...] = ("light", "dark")
    for scheme in schemes:
        theme = {"primaryColor": "#0f766e"}
        v, _ = await open_portal(browser, portal_server, app_id, color_scheme=scheme, theme=theme)
        for name, path in pages.items():
            await v.goto(path)
            if name == "message":
                await until(v.page.locator("details.attempt").first.is_visible, v.page)
            assert await axe_violations(v.page) == [], f"{name} ({scheme})"
            if name in shown:
                await screenshot(v.page, tmp_path / f"portal-{name}-{scheme}.png")
        assert v.errors == []
        await v.context.close()

    # A phone: nothing wider than the screen, the navigation and the actions reachable.
    v, _ = await open_portal(browser, portal_server, app_id, viewport=PHONE)
    for path in (pages["endpoints"], pages["endpoint"], pages["message"], pages["messages"]):
        await v.goto(path)
        width = await v.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width)
        assert await axe_violations(v.page) == [], f"{path} (phone)"
    await v.goto(pages["endpoints"])
    nav = v.page.get_by_role("navigation", name="Portal")
    await expect(nav.get_by_role("link", name="Messages")).to_be_in_viewport()
    await v.page.get_by_role("link", name=module_receiver.url).click()
    await expect(v.page.get_by_role("button", name="Rotate secret")).to_be_visible()
    await v.page.screenshot(path=tmp_path / "portal-phone-light.png")
    await v.context.close()

    taken = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(taken) == 2 * len(shown) + 1
    publish_screenshots(tmp_path, taken)
