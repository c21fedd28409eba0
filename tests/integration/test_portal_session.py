"""Opening the consumer portal without a browser: the magic link's key (from the svix SDK's
``authentication.app_portal_access``) exchanged once for the session cookie, and what ends
that session (``expire-all``, sign-out), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import urllib.parse

import httpx
import pytest
from svix.api import ApplicationIn, ApplicationTokenExpireIn, AppPortalAccessIn, SvixAsync

from tests.support import TOKEN, HookdServer

pytestmark = pytest.mark.asyncio
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def opening(client: httpx.AsyncClient) -> str:
    """The opening page's CSRF token (its cookie is in ``client`` now)."""
    page = await client.get("/portal")
    assert page.status_code == 200
    found = CSRF.search(page.text)
    assert found is not None
    return found.group(1)


async def test_the_key_is_exchanged_once_for_a_session_cookie(
    hookd: HookdServer, svix: SvixAsync
) -> None:
    app = await svix.application.create(ApplicationIn(name="Portal exchange"))
    access = await svix.authentication.app_portal_access(app.id, AppPortalAccessIn())
    url = urllib.parse.urlsplit(access.url)
    assert url.path == "/portal" and url.fragment.startswith("key=")
    key = urllib.parse.unquote(url.fragment.removeprefix("key="))

    async with httpx.AsyncClient(base_url=hookd.url) as client:
        # Without the opening page's CSRF token: refused, no session.
        forged = await client.post("/portal/session", data={"key": key})
        assert forged.status_code == 403 and "hookd_portal" not in forged.cookies
        assert "did not send the portal&#39;s cookie back" in forged.text
        csrf = await opening(client)
        # Not a portal key: the admin token does not open the portal, nor does garbage.
        for wrong in (TOKEN, "nonsense", ""):
            refused = await client.post("/portal/session", data={"key": wrong, "csrf": csrf})
            assert refused.status_code == 401 and "not valid" in refused.text
            csrf = CSRF.search(refused.text).group(1)  # type: ignore[union-attr]
        started = await client.post(
            "/portal/session", data={"key": key, "csrf": csrf, "theme": "primaryColor=%23123456"}
        )
        assert started.status_code == 303
        assert started.headers["location"] == "/portal/endpoints"  # no token in it
        cookies = started.headers.get_list("set-cookie")
        (session,) = [c for c in cookies if c.startswith("hookd_portal=")]
        assert "HttpOnly" in session and "Path=/portal" in session and "SameSite=lax" in session
        max_age = int(re.search(r"Max-Age=(\d+)", session).group(1))  # type: ignore[union-attr]
        assert 7 * 86400 - 120 < max_age <= 7 * 86400  # the token's expiry
        page = await client.get("/portal/endpoints")
        assert page.status_code == 200 and "Portal exchange" in page.text
        assert '/portal/theme.css?primaryColor=%23123456"' in page.text
        css = await client.get("/portal/theme.css?primaryColor=%23123456")
        assert "--accent: #123456;" in css.text and css.headers["content-type"].startswith(
            "text/css"
        )

        # expire-all ends it at once (this process forgets its cached principal).
        await svix.authentication.expire_all(app.id, ApplicationTokenExpireIn())
        ended = await client.get("/portal/endpoints")
        assert ended.status_code == 401 and "has ended" in ended.text


async def test_sign_out_ends_the_token_and_a_capability_is_checked_on_the_server(
    hookd: HookdServer, svix: SvixAsync
) -> None:
    app = await svix.application.create(ApplicationIn(name="Portal sign-out"))
    access = await svix.authentication.app_portal_access(
        app.id, AppPortalAccessIn(capabilities=["ViewBase"])
    )
    async with httpx.AsyncClient(base_url=hookd.url) as client:
        csrf = await opening(client)
        started = await client.post("/portal/session", data={"key": access.token, "csrf": csrf})
        assert started.status_code == 303
        page = await client.get("/portal/endpoints")
        csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        assert "Add endpoint" not in page.text
        form = await client.get("/portal/endpoints/new")
        assert form.status_code == 403
        assert "does not have the ManageEndpoint capability" in form.text
        made = await client.post(
            "/portal/endpoints/new", data={"csrf": csrf, "url": "https://example.com/hook"}
        )
        assert made.status_code == 403
        assert (await svix.endpoint.list(app.id)).data == []

        out = await client.post("/portal/sign-out", data={"csrf": csrf})
        assert out.status_code == 303
        assert out.headers["location"] == "/portal?notice=portal-signed-out"
        api = await client.get(
            f"/api/v1/app/{app.id}/endpoint",
            headers={"Authorization": f"Bearer {access.token}"},
        )
        assert api.status_code == 401
