"""Who may sign in to the console and what each principal may do there (issue 17, "Access"),
in-process on SQLite and PostgreSQL: a read-only key reads every page and changes nothing (the
refusal matrix), an application's key opens the consumer portal of its application only, and a
revoked key's session ends at its next request."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from hookd.api import errors
from hookd.api.auth import ApiKeys
from hookd.api.console import site
from hookd.config import Settings
from hookd.core.access import Scope
from hookd.core.domain import ListQuery
from hookd.services import applications, console, event_types
from hookd.services.access import api_keys
from hookd.services.context import Context
from hookd.services.endpoints import crud as endpoints
from hookd.store.db import Database
from tests.pg import create_database, drop_database, migrate_database
from tests.support import TOKEN

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'principals.db'}"
        migrate_database(url)
        yield url
        return
    url = create_database()
    yield url
    drop_database(url)


class Browser:
    """Cookies kept, the last page's CSRF token sent back."""

    def __init__(self, client: httpx.AsyncClient, ctx: Context) -> None:
        self.client = client
        self.ctx = ctx
        self.csrf = ""

    async def get(self, path: str) -> httpx.Response:
        response = await self.client.get(path)
        found = CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    async def post(self, path: str, data: dict[str, Any] | None = None) -> httpx.Response:
        return await self.client.post(path, data={"csrf": self.csrf, **(data or {})})

    async def sign_in(self, token: str) -> httpx.Response:
        await self.get("/console/sign-in")
        return await self.post("/console/sign-in", {"token": token, "next": "/console/apps"})


@pytest.fixture
async def browser(database_url: str) -> AsyncIterator[Browser]:
    db = Database(database_url)
    ctx = Context(db=db, settings=Settings(database_url=database_url, allow_networks="127.0.0.0/8"))
    app = FastAPI()
    app.state.ctx = ctx
    app.state.api_keys = ApiKeys.admin(TOKEN).bound(ctx)
    errors.install(app)
    site.install(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as client:
        yield Browser(client, ctx)
    await db.close()


def location(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text[-2000:]
    return response.headers["location"]


async def _key(ctx: Context, scope: Scope, app_ref: str | None = None) -> tuple[str, str]:
    key, token = await api_keys.create_key(
        ctx, name=f"{scope.value} key", scope=scope, app_ref=app_ref, expires_at=None
    )
    return key.id, token


async def test_a_read_only_key_reads_every_page_and_changes_nothing(browser: Browser) -> None:
    ctx = browser.ctx
    app, _ = await applications.create_app(ctx, {"name": "Shop"})
    endpoint = await endpoints.create_endpoint(ctx, app.id, {"url": "http://127.0.0.1:9/hook"})
    await event_types.create_event_type(ctx, {"name": "order.paid"})
    _, token = await _key(ctx, Scope.READ_ONLY)
    assert location(await browser.sign_in(token)) == "/console/apps"

    listing = await browser.get("/console/apps")
    assert listing.status_code == 200 and "Shop" in listing.text
    assert 'class="read-only"' in listing.text and "Signed in read-only" in listing.text
    base = f"/console/apps/{app.id}"
    an_endpoint = f"{base}/endpoints/{endpoint.id}"
    for path in (
        "/console/overview",
        "/console/apps",
        f"{base}/endpoints",
        an_endpoint,
        f"{base}/messages",
        "/console/event-types",
        "/console/sources",
        "/console/alerts",
        "/console/api-keys",
        "/console/settings",
        "/console/apps/new",  # a form page: shown, with the notice, its post refused
    ):
        page = await browser.get(path)
        assert page.status_code == 200, (path, page.text[-500:])
        form_page = path.endswith("/new")
        assert ("this form is not for you" in page.text) is form_page, path
    # What the API does not show a read-only key either: secrets, the transformation's code.
    for path in (f"{an_endpoint}/secret", f"{an_endpoint}/edit", f"{an_endpoint}/edit?reveal=1"):
        closed = await browser.get(path)
        assert closed.status_code == 403 and "read-only API key" in closed.text, path
        assert endpoint.secret not in closed.text

    await browser.get("/console/apps")
    assert browser.csrf  # a valid token of its own session: only the scope refuses
    for path, data in (
        ("/console/apps/new", {"name": "Forged"}),
        (f"{base}/edit", {"name": "Renamed"}),
        (f"{base}/delete", {}),
        (f"{base}/endpoints/new", {"url": "http://127.0.0.1:9/forged"}),
        (f"{an_endpoint}/delete", {}),
        (f"{an_endpoint}/enabled", {"enabled": "false"}),
        (f"{an_endpoint}/secret/rotate", {}),
        ("/console/event-types/new", {"name": "forged.type"}),
        ("/console/event-types/order.paid/archive", {}),
        ("/console/api-keys", {"name": "escalated", "scope": "admin"}),
        ("/console/sources/new", {"name": "forged"}),
    ):
        refused = await browser.post(path, data)
        assert refused.status_code == 403, (path, refused.text[-500:])
        assert "read-only API key" in refused.text
    # Nothing changed.
    assert [a.name for a in (await applications.list_apps(ctx, ListQuery(limit=50))).items] == [
        "Shop"
    ]
    found = (await endpoints.list_endpoints(ctx, app.id, ListQuery(limit=50))).items
    assert [(e.id, e.disabled, e.secret) for e in found] == [
        (endpoint.id, endpoint.disabled, endpoint.secret)
    ]
    assert [k.scope for k in (await api_keys.list_keys(ctx, ListQuery(limit=50))).items] == [
        Scope.READ_ONLY
    ]
    assert not (await event_types.get_event_type(ctx, "order.paid")).archived

    # Signing out is the one post it makes.
    out = await browser.post("/console/sign-out")
    assert location(out).startswith("/console/sign-in")
    assert location(await browser.get("/console/apps")).startswith("/console/sign-in")


async def test_an_admin_key_is_a_full_admin_and_a_portal_token_is_refused(
    browser: Browser,
) -> None:
    ctx = browser.ctx
    _, token = await _key(ctx, Scope.ADMIN)
    assert location(await browser.sign_in(token)) == "/console/apps"
    page = await browser.get("/console/apps")
    assert "Signed in read-only" not in page.text and 'href="/console/apps/new"' in page.text
    made = await browser.post("/console/apps/new", {"name": "By a key"})
    assert made.status_code == 303
    assert [a.name for a in (await applications.list_apps(ctx, ListQuery(limit=50))).items] == [
        "By a key"
    ]


async def test_an_application_key_opens_the_portal_of_its_application_only(
    browser: Browser,
) -> None:
    ctx = browser.ctx
    mine, _ = await applications.create_app(ctx, {"name": "Mine"})
    theirs, _ = await applications.create_app(ctx, {"name": "Theirs"})
    their_endpoint = await endpoints.create_endpoint(
        ctx, theirs.id, {"url": "http://127.0.0.1:9/theirs"}
    )
    key_id, token = await _key(ctx, Scope.APPLICATION, mine.id)

    opened = await browser.sign_in(token)
    assert location(opened) == "/portal/endpoints"
    (cookie,) = [c for c in opened.headers.get_list("set-cookie") if c.startswith("hookd_portal=")]
    assert "HttpOnly" in cookie and "Path=/portal" in cookie
    assert "hookd_console=" not in " ".join(opened.headers.get_list("set-cookie"))
    page = await browser.get("/portal/endpoints")
    assert page.status_code == 200 and "Mine" in page.text and "Theirs" not in page.text
    assert (await browser.get("/portal/endpoints/new")).status_code == 200  # every capability
    made = await browser.post("/portal/endpoints/new", {"url": "http://127.0.0.1:9/mine"})
    assert made.status_code == 303, made.text[-500:]
    assert len((await endpoints.list_endpoints(ctx, mine.id, ListQuery(limit=50))).items) == 1
    # Another application's endpoint is not found, as a missing one; the console is not its.
    other = await browser.get(f"/portal/endpoints/{their_endpoint.id}")
    assert other.status_code == 404
    assert location(await browser.get("/console/apps")).startswith("/console/sign-in")

    # Signing out of the portal does not revoke the key.
    await browser.get("/portal/endpoints")
    out = await browser.post("/portal/sign-out")
    assert location(out) == "/portal?notice=portal-signed-out"
    assert (await api_keys.get_key(ctx, key_id)).scope is Scope.APPLICATION
    assert (await browser.get("/portal/endpoints")).status_code == 401


async def test_a_revoked_key_ends_its_sessions(browser: Browser) -> None:
    ctx = browser.ctx
    app, _ = await applications.create_app(ctx, {"name": "Shop"})
    read_id, read_token = await _key(ctx, Scope.READ_ONLY)
    app_id, app_token = await _key(ctx, Scope.APPLICATION, app.id)

    await browser.sign_in(read_token)
    assert (await browser.get("/console/apps")).status_code == 200
    session = browser.client.cookies["hookd_console"]
    assert await console.find_session(ctx, session) is not None
    await api_keys.revoke_key(ctx, read_id)
    ended = await browser.get("/console/apps")
    assert location(ended).startswith("/console/sign-in")
    assert await console.find_session(ctx, session) is None  # ended, not just refused
    again = await browser.sign_in(read_token)
    assert again.status_code == 401

    await browser.sign_in(app_token)
    assert (await browser.get("/portal/endpoints")).status_code == 200
    await api_keys.revoke_key(ctx, app_id)
    assert (await browser.get("/portal/endpoints")).status_code == 401
