"""Every console page, in-process (the app on httpx's ASGI transport, SQLite and PostgreSQL):
what each one shows and changes, the errors each form shows, the guards (sign-in, CSRF), the
headers. The browser tests (tests/browser) drive the same pages in Chromium against a real
server; these run without a browser and in the test process."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert

from hookd import ids
from hookd.api import errors
from hookd.api.auth import ApiKeys
from hookd.api.console import site
from hookd.config import Settings
from hookd.core.domain import Attempt, DeliveryStatus, TriggerType
from hookd.services import applications, event_types
from hookd.services.context import Context
from hookd.services.endpoints import crud as endpoints
from hookd.services.messages import crud as messages
from hookd.store.attempts import attempt_row
from hookd.store.db import Database
from hookd.store.schema import attempts
from tests.pg import create_database, drop_database, migrate_database
from tests.support import TOKEN

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'pages.db'}"
        migrate_database(url)
        yield url
        return
    url = create_database()
    yield url
    drop_database(url)


class Console:
    """A browser's view of the console: cookies kept, the last page's CSRF token sent back."""

    def __init__(self, client: httpx.AsyncClient, ctx: Context) -> None:
        self.client = client
        self.ctx = ctx
        self.csrf = ""

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        response = await self.client.get(path, **kw)
        found = CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    async def post(self, path: str, data: dict[str, Any] | None = None) -> httpx.Response:
        return await self.client.post(path, data={"csrf": self.csrf, **(data or {})})

    async def sign_in(self) -> None:
        await self.get("/console/sign-in")
        signed = await self.post("/console/sign-in", {"token": TOKEN, "next": "/console/apps"})
        assert signed.status_code == 303 and signed.headers["location"] == "/console/apps"
        await self.get("/console/apps")


@pytest.fixture
async def console(database_url: str) -> AsyncIterator[Console]:
    db = Database(database_url)
    ctx = Context(db=db, settings=Settings(database_url=database_url, allow_networks="127.0.0.0/8"))
    app = FastAPI()
    app.state.ctx = ctx
    app.state.api_keys = ApiKeys.admin(TOKEN)
    errors.install(app)
    site.install(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as client:
        yield Console(client, ctx)
    await db.close()


def location(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text[-2000:]
    return response.headers["location"]


async def test_guards_headers_and_sign_in(console: Console) -> None:
    root = await console.get("/")
    assert (root.status_code, root.headers["location"]) == (302, "/console")
    away = await console.get("/console/apps?q=x")
    assert location(away) == "/console/sign-in?next=%2Fconsole%2Fapps%3Fq%3Dx"
    htmx = await console.get("/console/apps", headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["hx-redirect"].startswith("/console/sign-in")
    anonymous = await console.client.post("/console/apps/new", data={"name": "x"})
    assert location(anonymous) == "/console/sign-in"

    form = await console.get("/console/sign-in?next=//evil.example")
    for name, value in {
        "x-frame-options": "DENY",
        "referrer-policy": "same-origin",
        "x-content-type-options": "nosniff",
        "cache-control": "no-store",
    }.items():
        assert form.headers[name] == value
    assert "frame-ancestors 'none'" in form.headers["content-security-policy"]
    wrong = await console.post("/console/sign-in", {"token": "nope"})
    assert wrong.status_code == 401 and "That token is not valid." in wrong.text
    await console.get("/console/sign-in?next=//evil.example")
    signed = await console.post("/console/sign-in", {"token": TOKEN, "next": "//evil.example"})
    assert location(signed) == "/console"  # never off the console
    assert location(await console.get("/console/sign-in")) == "/console"  # already signed in
    assert location(await console.get("/console")) == "/console/overview"
    assert location(await console.get("/console/")) == "/console/overview"

    await console.get("/console/apps")
    refused = await console.client.post("/console/apps/new", data={"name": "forged"})
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert (await console.client.get("/console/nothing/here")).status_code == 404
    css = await console.client.get("/console/static/console.css")
    assert css.status_code == 200 and "immutable" in css.headers["cache-control"]
    assert css.headers["x-content-type-options"] == "nosniff"
    missing = await console.client.get("/console/static/nothing.css")
    assert missing.status_code == 404

    out = await console.post("/console/sign-out")
    assert location(out) == "/console/sign-in?notice=signed-out"
    assert "You are signed out." in (await console.get(location(out))).text
    assert location(await console.get("/console/apps")).startswith("/console/sign-in")
    bad_link = await console.get("/console/link?token=nothing")
    assert "Sign in with a login link" in bad_link.text
    spent = await console.post("/console/link", {"token": "nothing"})
    assert spent.status_code == 400


async def test_applications(console: Console) -> None:
    await console.sign_in()
    empty = await console.get("/console/apps")
    assert "No applications yet." in empty.text
    await console.get("/console/apps/new")
    refused = await console.post("/console/apps/new", {"name": " ", "uid": "bad uid"})
    assert refused.status_code == 422 and "Name is required" in refused.text
    refused = await console.post("/console/apps/new", {"name": "Shop", "uid": "bad uid"})
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text
    refused = await console.post("/console/apps/new", {"name": "Shop", "rate_limit": "many"})
    assert "Rate limit must be a whole number" in refused.text
    created = await console.post(
        "/console/apps/new", {"name": "<b>Shop</b>", "uid": "shop", "rate_limit": "10"}
    )
    app_id = location(created).split("/")[3]
    page = await console.get(location(created))
    assert "Application created." in page.text and "&lt;b&gt;Shop&lt;/b&gt;" in page.text
    assert "<b>Shop</b>" not in page.text
    taken = await console.post("/console/apps/new", {"name": "Again", "uid": "shop"})
    assert taken.status_code == 409 and "already exists" in taken.text

    rows = await console.get("/console/apps?q=SHOP", headers={"HX-Target": "app-rows"})
    assert "<html" not in rows.text and app_id in rows.text
    assert "No application matches" in (await console.get("/console/apps?q=zzz")).text
    assert location(await console.get(f"/console/apps/{app_id}")).endswith("/endpoints")

    edit = await console.get(f"/console/apps/{app_id}/edit")
    assert 'value="shop"' in edit.text
    saved = await console.post(f"/console/apps/{app_id}/edit", {"name": "Shop", "uid": ""})
    assert location(saved).endswith("notice=app-saved")
    app = await applications.get_app(console.ctx, app_id)
    assert (app.name, app.uid, app.rate_limit) == ("Shop", None, None)
    bad = await console.post(f"/console/apps/{app_id}/edit", {"name": ""})
    assert bad.status_code == 422

    confirm = await console.get(f"/console/apps/{app_id}/delete")
    assert "Delete Shop?" in confirm.text
    gone = await console.post(f"/console/apps/{app_id}/delete")
    assert location(gone) == "/console/apps?notice=app-deleted"
    assert (await console.get(f"/console/apps/{app_id}/edit")).status_code == 404


async def test_endpoints(console: Console) -> None:
    ctx = console.ctx
    await console.sign_in()
    app, _ = await applications.create_app(ctx, {"name": "Shop"})
    await event_types.create_event_type(
        ctx, {"name": "order.paid", "schemas": {"1": {"examples": [{"order": 1}]}}}
    )
    base = f"/console/apps/{app.id}/endpoints"
    assert "No endpoints yet." in (await console.get(base)).text
    form = await console.get(f"{base}/new")
    assert 'value="order.paid"' in form.text
    refused = await console.post(f"{base}/new", {"url": ""})
    assert refused.status_code == 422 and "URL is required" in refused.text
    refused = await console.post(
        f"{base}/new", {"url": "http://127.0.0.1:9/x", "headers": "no colon here"}
    )
    assert "header line 1" in refused.text
    refused = await console.post(f"{base}/new", {"url": "ftp://x"})
    assert refused.status_code == 422 and 'id="url-error"' in refused.text
    created = await console.post(
        f"{base}/new",
        {
            "url": "http://user:pw-secret@127.0.0.1:9/hook",
            "description": "Receiver",
            "filterTypes": "order.paid",
            "otherTypes": "order.refunded, order.paid",
            "channels": "eu, us",
            "rateLimit": "5",
            "version": "1",
            "thin": "1",
            "fifo": "1",
            "batchSize": "10",
            "batchMaxWaitMs": "100",
            "headers": "X-Team: shop\nAuthorization: Bearer sekrit\n",
        },
    )
    endpoint_id = location(created).split("/")[5].split("?")[0]
    endpoint = await endpoints.get_endpoint(ctx, app.id, endpoint_id)
    assert endpoint.filter_types == ("order.paid", "order.refunded")
    assert endpoint.channels == ("eu", "us") and endpoint.batch_size == 10 and endpoint.thin
    detail = await console.get(f"{base}/{endpoint_id}")
    assert "pw-secret" not in detail.text and "sekrit" not in detail.text
    assert "healthy" in detail.text and "up to 10 per request" in detail.text
    listed = await console.get(base)
    assert "Receiver" in listed.text and "healthy" in listed.text

    edit = await console.get(f"{base}/{endpoint_id}/edit")
    assert "pw-secret" not in edit.text and 'value="order.refunded"' in edit.text
    masked = re.search(r'id="url" name="url" value="([^"]+)"', edit.text)
    assert masked is not None
    saved = await console.post(
        f"{base}/{endpoint_id}/edit",
        {"url": masked.group(1).replace("&amp;", "&"), "description": "Renamed"},
    )
    assert location(saved).endswith("notice=endpoint-saved")
    endpoint = await endpoints.get_endpoint(ctx, app.id, endpoint_id)
    assert endpoint.url == "http://user:pw-secret@127.0.0.1:9/hook"  # the mask kept it
    assert endpoint.filter_types is None and endpoint.batch_size is None
    refused = await console.post(
        f"{base}/{endpoint_id}/edit", {"url": "http://127.0.0.1:9/x", "version": "0"}
    )
    assert refused.status_code == 422 and 'id="version-error"' in refused.text
    assert "greater than or equal to 1" in refused.text

    fragment = await console.get(f"{base}/{endpoint_id}/secret", headers={"HX-Target": "secret"})
    assert "<html" not in fragment.text and endpoint.secret in fragment.text
    full = await console.get(f"{base}/{endpoint_id}/secret")
    assert "<html" in full.text and endpoint.secret in full.text
    rotated = await console.post(f"{base}/{endpoint_id}/secret/rotate")
    assert location(rotated).endswith("notice=secret-rotated")
    assert (await endpoints.get_endpoint(ctx, app.id, endpoint_id)).secret != endpoint.secret

    headers = await console.post(
        f"{base}/{endpoint_id}/headers",
        {"remove": "Authorization", "add_name": "X-Region", "add_value": "eu"},
    )
    assert location(headers).endswith("notice=headers-saved")
    assert (await endpoints.get_endpoint(ctx, app.id, endpoint_id)).headers == {
        "X-Team": "shop",
        "X-Region": "eu",
    }
    off = await console.post(f"{base}/{endpoint_id}/enabled", {"enabled": "0"})
    assert location(off).endswith("notice=endpoint-disabled")
    assert "disabled" in (await console.get(f"{base}/{endpoint_id}")).text
    on = await console.post(f"{base}/{endpoint_id}/enabled", {"enabled": "1"})
    assert location(on).endswith("notice=endpoint-enabled")

    no_time = await console.post(f"{base}/{endpoint_id}/recover", {"since": ""})
    assert no_time.status_code == 422 and "Choose the time" in no_time.text
    recovered = await console.post(
        f"{base}/{endpoint_id}/recover", {"since": "2026-01-01T00:00:00"}
    )
    assert location(recovered).endswith("notice=recovered&count=0")
    assert "0 failed messages queued again." in (await console.get(location(recovered))).text
    no_type = await console.post(f"{base}/{endpoint_id}/send-example", {"event_type": ""})
    assert no_type.status_code == 422
    example = await console.post(f"{base}/{endpoint_id}/send-example", {"event_type": "order.paid"})
    assert "/messages/msg_" in location(example)
    assert "Example event sent" in (await console.get(location(example))).text

    confirm = await console.get(f"{base}/{endpoint_id}/delete")
    assert "Delete this endpoint?" in confirm.text
    gone = await console.post(f"{base}/{endpoint_id}/delete")
    assert location(gone) == f"{base}?notice=endpoint-deleted"


async def test_messages(console: Console) -> None:
    ctx = console.ctx
    await console.sign_in()
    app, _ = await applications.create_app(ctx, {"name": "Shop"})
    endpoint = await endpoints.create_endpoint(
        ctx, app.id, {"url": "http://127.0.0.1:9/hook", "headers": {"X-API-Key": "k-secret"}}
    )
    message, _ = await messages.create_message(
        ctx,
        app.id,
        payload=b'{"note": "<script>alert(1)</script>"}',
        event_type="order.paid",
        event_id="evt-1",
        tags=["t1"],
        channels=["eu"],
    )
    now = ctx.clock()
    attempt = Attempt(
        id=ids.new_id(ids.ATTEMPT, now),
        msg_id=message.id,
        endpoint_id=endpoint.id,
        app_id=app.id,
        url=endpoint.url,
        status=DeliveryStatus.FAIL,
        response_status_code=500,
        response='{"error": "<b>down</b>"}',
        response_duration_ms=12,
        trigger_type=TriggerType.SCHEDULED,
        attempt_number=1,
        created_at=now,
    )
    async with ctx.db.write() as conn:
        await conn.execute(insert(attempts).values(attempt_row(attempt)))
    base = f"/console/apps/{app.id}/messages"

    log = await console.get(base)
    assert message.id in log.text and "pending" in log.text
    for query in (
        "?event_type=order.paid",
        "?channel=eu",
        "?tag=t1",
        f"?endpoint={endpoint.id}&status=pending",
        "?after=2020-01-01T00:00",
    ):
        assert message.id in (await console.get(base + query)).text, query
    assert message.id not in (await console.get(base + "?tag=t2")).text
    assert "No messages match these filters" in (await console.get(base + "?tag=t2")).text
    # A status at any endpoint (the application has one).
    assert message.id in (await console.get(base + "?status=pending")).text
    failed = await console.get(base + "?status=fail")
    assert failed.status_code == 200 and message.id not in failed.text
    unknown = await console.get(base + "?status=lost")
    assert unknown.status_code == 422
    bad_time = await console.get(base + "?before=yesterday")
    assert bad_time.status_code == 422 and "To is not a date and time" in bad_time.text
    found = await console.get(base + "?lookup=evt-1")
    assert location(found) == f"{base}/{message.id}"
    assert (await console.get(base + "?lookup=nothing")).status_code == 404

    # Bulk replay: a bad filter is a 422; a good one starts the task, whose page htmx polls.
    assert (await console.post(f"{base}/replay", {"after": "yesterday"})).status_code == 422
    replay = location(await console.post(f"{base}/replay", {"endpoint": endpoint.id}))
    assert re.fullmatch(rf"{base}/replay/qtask_\w+", replay)
    progress = await console.get(replay, headers={"HX-Request": "true"})
    assert "<html" not in progress.text and 'id="replay-progress"' in progress.text
    assert "<html" in (await console.get(replay)).text
    assert (await console.get(f"{base}/replay/qtask_nothing")).status_code == 404

    page = await console.get(f"{base}/{message.id}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;b&gt;down&lt;/b&gt;" in page.text and "500" in page.text
    assert "X-API-Key" in page.text and "k-secret" not in page.text
    assert f'webhook-id</th><td class="mono">{message.id}' in page.text
    assert "webhook-timestamp" in page.text

    no_endpoint = await console.post(f"{base}/{message.id}/resend", {"endpoint_id": ""})
    assert no_endpoint.status_code == 422
    resent = await console.post(f"{base}/{message.id}/resend", {"endpoint_id": endpoint.id})
    assert location(resent) == f"{base}/{message.id}?notice=resent"
    expunged, _ = await messages.create_message(ctx, app.id, payload=b"{}", event_type="x")
    await messages.expunge_message_content(ctx, app.id, expunged.id)
    assert "The payload was expunged." in (await console.get(f"{base}/{expunged.id}")).text
    conflict = await console.post(f"{base}/{expunged.id}/resend", {"endpoint_id": endpoint.id})
    assert conflict.status_code == 409

    # Paging: the second page is reached through the next link's cursor.
    for _ in range(50):
        ctx_later = Context(
            db=ctx.db, settings=ctx.settings, clock=lambda: ctx.clock() + timedelta(seconds=1)
        )
        await messages.create_message(ctx_later, app.id, payload=b"{}", event_type="bulk")
    first = await console.get(base)
    following = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert following is not None
    second = await console.get(following.group(1).replace("&amp;", "&"))
    assert message.id in second.text and 'rel="prev"' in second.text


async def test_event_catalog(console: Console) -> None:
    await console.sign_in()
    assert "No event types yet." in (await console.get("/console/event-types")).text
    await console.get("/console/event-types/new")
    for schema, error in (
        ("{not json", "The schema is not JSON"),
        ("[1]", "The schema must be a JSON object"),
        ('{"type": 5}', "schema 1:"),
    ):
        refused = await console.post(
            "/console/event-types/new", {"name": "order.paid", "schema": schema}
        )
        assert refused.status_code == 422 and error in refused.text, schema
    assert "Name is required" in (await console.post("/console/event-types/new", {})).text
    created = await console.post(
        "/console/event-types/new",
        {
            "name": "order.paid",
            "description": "Paid <i>in full</i>",
            "schema": '{"type": "object", "examples": [{"order": "o-1"}]}',
        },
    )
    assert location(created) == "/console/event-types/order.paid?notice=event-type-created"
    await console.post("/console/event-types/new", {"name": "bare"})
    detail = await console.get("/console/event-types/order.paid")
    assert "Example 1" in detail.text and "&lt;i&gt;in full&lt;/i&gt;" in detail.text
    assert "No schema" in (await console.get("/console/event-types/bare")).text
    duplicate = await console.post("/console/event-types/new", {"name": "order.paid"})
    assert duplicate.status_code == 409

    archived = await console.post("/console/event-types/order.paid/archive")
    assert location(archived).endswith("notice=event-type-archived")
    listed = await console.get("/console/event-types")
    assert "order.paid" not in listed.text and "bare" in listed.text
    assert "archived" in (await console.get("/console/event-types?archived=1")).text
    back = await console.post("/console/event-types/order.paid/unarchive")
    assert location(back).endswith("notice=event-type-unarchived")
    assert (await console.get("/console/event-types/nothing")).status_code == 404
