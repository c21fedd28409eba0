"""The console's sign-in over plain HTTP (no browser): the Secure flag behind a trusted proxy
only, the sign-in form's own CSRF check, a login link not spent by opening it."""

from __future__ import annotations

import re

import httpx

from tests.launcher import run_hookd
from tests.support import TOKEN, HookdServer, NewServer

HTTPS = {"X-Forwarded-Proto": "https"}


def _sign_in(client: httpx.Client, headers: dict[str, str]) -> httpx.Response:
    form = client.get("/console/sign-in", headers=headers)
    assert form.status_code == 200
    (token,) = re.findall(r'name="csrf" value="([^"]+)"', form.text)
    # Sent back by hand: httpx keeps a Secure cookie off plain HTTP, as a browser does (the
    # proxy in front would have spoken HTTPS to it).
    cookie = {"Cookie": f"hookd_console_sign_in={form.cookies['hookd_console_sign_in']}"}
    return client.post(
        "/console/sign-in",
        data={"csrf": token, "token": TOKEN, "next": "/"},
        headers={**headers, **cookie},
    )


def _session_cookie(response: httpx.Response) -> str:
    (cookie,) = [
        c for c in response.headers.get_list("set-cookie") if c.startswith("hookd_console=")
    ]
    return cookie


def test_the_cookie_is_secure_over_https_seen_through_a_trusted_proxy(
    new_server: NewServer,
) -> None:
    trusting = new_server({"HOOKD_TRUSTED_PROXIES": "127.0.0.1/32"}, name="trusting")
    trusting.start()
    with httpx.Client(base_url=trusting.url) as client:
        signed = _sign_in(client, HTTPS)
    assert signed.status_code == 303
    assert signed.headers["location"] == "/console"  # not the "next" off the console
    cookie = _session_cookie(signed).lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie

    plain = new_server(name="plain")  # trusts no proxy: the header is the client's word
    plain.start()
    with httpx.Client(base_url=plain.url) as client:
        signed = _sign_in(client, HTTPS)
    assert signed.status_code == 303
    assert "secure" not in _session_cookie(signed).lower()
    check_sign_in_form_and_link(plain)


def check_sign_in_form_and_link(server: HookdServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        # The sign-in form's token must come back with its cookie (double submit).
        client.get("/console/sign-in")
        forged = client.post("/console/sign-in", data={"csrf": "x", "token": TOKEN})
        assert forged.status_code == 403
        assert "hookd_console=" not in forged.headers.get("set-cookie", "")

    printed = run_hookd(
        ["console-link", "--database-url", f"sqlite:///{server.data_dir / 'hookd.db'}"],
        check=True,
    )
    assert printed.stdout.startswith("http://127.0.0.1:8071/console/link?token=")
    token = printed.stdout.strip().rpartition("token=")[2]
    with httpx.Client(base_url=server.url) as client:
        for _ in range(2):  # opening the link (a preview bot, a reload) does not spend it
            page = client.get("/console/link", params={"token": token})
            assert page.status_code == 200 and "Sign in with a login link" in page.text
        (csrf,) = re.findall(r'name="csrf" value="([^"]+)"', page.text)
        used = client.post("/console/link", data={"csrf": csrf, "token": token})
        assert used.status_code == 303 and used.headers["location"] == "/console"
        assert "hookd_console=" in used.headers.get("set-cookie", "")
        signed_in = client.get("/console/apps")
        assert signed_in.status_code == 200 and "Applications" in signed_in.text
        # Signing in spent the sign-in form's token too: a new form, then the link is spent.
        assert client.post("/console/link", data={"csrf": csrf, "token": token}).status_code == 403
        page = client.get("/console/link", params={"token": token})
        (csrf,) = re.findall(r'name="csrf" value="([^"]+)"', page.text)
        again = client.post("/console/link", data={"csrf": csrf, "token": token})
        assert again.status_code == 400 and "does not work" in again.text
