"""Browser tests: Python Playwright driving Debian's Chromium (``apt-get install -y chromium``;
``playwright install`` cannot download browsers here). One hookd server, one receiver and one
browser per test module."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import httpx
import pytest
from aiohttp import web
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    async_playwright,
    expect,
)

from tests.support import REPO, TOKEN, HookdServer, Received, Receiver

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
SCREENSHOTS = REPO / "docs" / "console"
SCREENSHOT_HEIGHT = 1100


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's Chromium; skipped when absent, failed instead with HOOKD_REQUIRE_SERVICES=1."""
    if not CHROMIUM.exists():
        message = f"no Chromium at {CHROMIUM}: install it with `apt-get install -y chromium`"
        if os.environ.get("HOOKD_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return str(CHROMIUM)


@pytest.fixture(scope="module")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium)
        yield launched
        await launched.close()


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HookdServer]:
    server = HookdServer(tmp_path_factory.mktemp("console"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def module_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


class Visit:
    """A browser context (its own cookies) on the console, recording what the page reported:
    console errors (a script refused by the CSP shows there) and dialogs (an executed
    ``alert``)."""

    def __init__(self, context: BrowserContext, page: Page, base: str) -> None:
        self.context = context
        self.page = page
        self.base = base
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("dialog", self._dialog)

    def _console(self, message: ConsoleMessage) -> None:
        # A 4xx page the test asked for is logged as a failed load: not an error of the page.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    async def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        await dialog.dismiss()

    async def goto(self, path: str) -> None:
        response = await self.page.goto(self.base + path)
        assert response is not None

    async def sign_in(self, token: str = TOKEN) -> None:
        await self.goto("/console/sign-in")
        await self.page.get_by_label("Admin token").fill(token)
        await self.page.get_by_role("button", name="Sign in").click()
        await self.page.wait_for_url("**/console/overview")


async def visit(
    browser: Browser, server: HookdServer, *, color_scheme: Literal["light", "dark"] = "light"
) -> Visit:
    context = await browser.new_context(
        color_scheme=color_scheme,
        viewport={"width": 1280, "height": 800},
        locale="en-GB",
    )
    return Visit(context, await context.new_page(), server.url)


async def axe_violations(page: Page) -> list[dict[str, object]]:
    """The serious and critical violations axe-core finds on the page (WCAG 2 A and AA rules,
    colour contrast included). Evaluated over the DevTools protocol: the page's CSP forbids
    inline scripts, and stays on."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text())
    result = await page.evaluate(
        """async () => {
            const found = await axe.run(document, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
            });
            return found.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5),
            }));
        }"""
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def api(server: HookdServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )


async def until(check: Callable[[], Awaitable[bool]], page: Page, timeout: float = 20) -> None:
    """Reload ``page`` until ``check`` holds (what the worker did shows on the next render)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not shown in time on {page.url}")
        await asyncio.sleep(0.3)
        await page.reload()


def answer(status: int, text: str = "") -> Callable[[Received], Awaitable[web.Response]]:
    async def respond(_: Received) -> web.Response:
        return web.Response(status=status, text=text)

    return respond


async def screenshot(page: Page, path: Path) -> None:
    """The page from its top, down to SCREENSHOT_HEIGHT pixels at most."""
    height = await page.evaluate("document.documentElement.scrollHeight")
    clip = {"x": 0, "y": 0, "width": 1280, "height": min(height, SCREENSHOT_HEIGHT)}
    await page.screenshot(path=path, full_page=True, clip=clip)  # type: ignore[arg-type]


def publish_screenshots(tmp_path: Path, taken: list[str]) -> None:
    """The screenshots docs/console.md shows: each one ``taken`` (in ``tmp_path``) must be in
    docs/console/ and shown by docs/console.md; HOOKD_UPDATE_SCREENSHOTS=1 copies them there."""
    if os.environ.get("HOOKD_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(exist_ok=True)
        for name in taken:
            shutil.copyfile(tmp_path / name, SCREENSHOTS / name)
    documented = (REPO / "docs" / "console.md").read_text()
    for name in taken:
        assert f"console/{name}" in documented, f"docs/console.md does not show {name}"
        assert (SCREENSHOTS / name).exists(), f"run with HOOKD_UPDATE_SCREENSHOTS=1: {name}"


async def recover_failed(page: Page) -> None:
    """On an endpoint's page: resend its messages failed in the last five minutes (one)."""
    since = datetime.now(UTC) - timedelta(minutes=5)
    await page.get_by_label("Failed since (UTC)").fill(since.strftime("%Y-%m-%dT%H:%M:%S"))
    await page.get_by_role("button", name="Resend failed messages").click()
    await expect(page.get_by_role("status")).to_have_text("1 failed messages queued again.")
