"""The consumer portal's pure parts: the theme's checks and stylesheet, the magic link's key,
the cookies' attributes, the headers, the capability table and HOOKD_PORTAL_FRAME_ANCESTORS."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from hookd.api.console.portal.pages import ROUTERS
from hookd.api.console.portal.routing import PortalRoute, portal_headers
from hookd.api.console.portal.rules import RULES
from hookd.api.console.portal.sessions import set_cookie, token_of_key
from hookd.api.console.portal.theme import (
    Theme,
    stylesheet,
    text_on,
    theme_from,
    theme_of_query,
)
from hookd.config import Settings

TOKEN = "hookd_portal_" + "a" * 43
# What a generated stylesheet may contain besides its fixed text: nothing that ends a
# declaration, a rule or a string, or loads anything.
SAFE_VALUE = re.compile(r'[#0-9a-f]+|"?[A-Za-z0-9 -]+"?')


@pytest.mark.parametrize(
    ("given_value", "kept"),
    [
        ("#7C3AED", "#7c3aed"),
        ("7c3aed", "#7c3aed"),
        ("#abc", "#aabbcc"),
        ("red", None),
        ("#12345", None),
        ("#7c3aed;}body{display:none", None),
        ("url(https://evil.example)", None),
        ("", None),
    ],
)
def test_a_primary_colour_is_hex_or_ignored(given_value: str, kept: str | None) -> None:
    assert theme_from({"primaryColor": given_value}).primary == kept


def test_every_theme_parameter_is_checked() -> None:
    theme = theme_from(
        {
            "darkMode": "true",
            "fontFamily": "Inter",
            "icon": "https://cdn.example.com/logo.svg",
            "hide": "messages, event-types, nonsense",
        }
    )
    assert theme == Theme(
        dark=True,
        font="Inter",
        logo="https://cdn.example.com/logo.svg",
        hidden=frozenset({"messages", "event-types"}),
    )
    assert [name for name, _, _ in theme.sections()] == ["endpoints"]
    bad = theme_from(
        {
            "darkMode": "maybe",
            "fontFamily": 'Inter"; } body { display: none',
            "icon": "javascript:alert(1)",
        }
    )
    assert bad == Theme()
    for logo in (
        "http://cdn.example.com/logo.png",  # not https
        "https://user:pw@cdn.example.com/logo.png",  # credentials
        'https://cdn.example.com/a".png',
        "data:text/html;base64,PHNjcmlwdD4=",  # not an image
        "data:image/png;base64," + "A" * 3000,  # too long for the cookie
    ):
        assert theme_from({"icon": logo}).logo is None, logo
    assert theme_from({"icon": "data:image/png;base64,iVBORw0KGgo="}).logo is not None


def test_the_theme_survives_its_query_and_the_stylesheet_uses_it() -> None:
    theme = theme_from({"primaryColor": "#fde047", "fontFamily": "serif", "darkMode": "0"})
    assert theme_of_query(theme.query()) == theme
    css = stylesheet(theme)
    assert "--accent: #fde047;" in css and "--accent-fg: #000000;" in css
    assert "--font: serif, system-ui, sans-serif;" in css
    assert stylesheet(Theme(dark=True)) == ""


def _contrast(a: str, b: str) -> float:
    def lum(c: str) -> float:
        def ch(v: int) -> float:
            s = v / 255
            return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

        r, g, bl = (int(c[i : i + 2], 16) for i in (1, 3, 5))
        return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(bl)

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@given(st.from_regex(r"#[0-9a-f]{6}", fullmatch=True))
def test_text_on_the_primary_colour_is_readable(colour: str) -> None:
    assert _contrast(colour, text_on(colour)) >= 4.5


@given(st.dictionaries(st.sampled_from(["primaryColor", "fontFamily"]), st.text(max_size=60)))
def test_no_input_reaches_the_stylesheet_but_checked_values(params: dict[str, str]) -> None:
    css = stylesheet(theme_from(params))
    for line in css.splitlines():
        name, _, value = line.strip().partition(": ")
        if name in ("--accent", "--accent-fg"):
            assert re.fullmatch(r"#[0-9a-f]{6};", value)
        elif name == "--font":
            family = value.removesuffix(", system-ui, sans-serif;")
            assert SAFE_VALUE.fullmatch(family), value
        else:
            assert line in (
                ':root, :root[data-theme="dark"], :root:not([data-theme="light"]) {',
                "}",
                "body, button, input, select, textarea { font-family: var(--font); }",
            )


def test_the_key_of_a_magic_link_or_a_token() -> None:
    key = base64.b64encode(orjson.dumps({"appId": "app_1", "token": TOKEN})).decode()
    assert token_of_key(key) == TOKEN
    assert token_of_key(key.rstrip("=")) == TOKEN  # padding lost on the way
    assert token_of_key(f"  {TOKEN} ") == TOKEN
    other = base64.b64encode(orjson.dumps({"appId": "app_1", "token": "hookd_key_x"})).decode()
    for bad in ("", "not base64 !", other, base64.b64encode(b"[1]").decode(), "x" * 5000):
        assert token_of_key(bad) is None


def _request(scheme: str) -> Request:
    scope = {"type": "http", "scheme": scheme, "path": "/portal", "query_string": b""}
    return Request({**scope, "headers": [(b"host", b"hookd.example.com")]})


def test_cookies_work_in_a_third_party_iframe_over_https() -> None:
    response = Response()
    set_cookie(response, _request("https"), "hookd_portal", TOKEN, max_age=60)
    cookie = response.headers["set-cookie"]
    for attribute in ("HttpOnly", "Path=/portal", "SameSite=none", "Secure", "Partitioned"):
        assert attribute in cookie
    response = Response()
    set_cookie(response, _request("http"), "hookd_portal", TOKEN, max_age=60)
    cookie = response.headers["set-cookie"]
    assert "SameSite=lax" in cookie and "Secure" not in cookie and "Partitioned" not in cookie


def test_frame_ancestors_setting_and_headers() -> None:
    assert Settings(portal_frame_ancestors="'none'").portal_frame_ancestors == "'none'"
    allowed = Settings(portal_frame_ancestors="  https://app.example.com   'self' ")
    assert allowed.portal_frame_ancestors == "https://app.example.com 'self'"
    for bad in ("https://a.example.com; script-src *", "*", "'none' 'self'", ""):
        with pytest.raises(ValidationError):
            Settings(portal_frame_ancestors=bad)
    headers = portal_headers("https://app.example.com")
    assert "frame-ancestors https://app.example.com" in headers["content-security-policy"]
    assert "img-src 'self' data: https:" in headers["content-security-policy"]
    assert "x-frame-options" not in headers
    assert portal_headers("'none'")["x-frame-options"] == "DENY"
    assert portal_headers("'self'")["x-frame-options"] == "SAMEORIGIN"


def test_every_signed_in_portal_route_has_its_capability() -> None:
    def walk(routes: Sequence[Any]) -> Iterator[Any]:
        for route in routes:  # a router included in another is kept whole
            included = getattr(route, "original_router", None)
            yield from walk(included.routes) if included is not None else (route,)

    routes = [
        (method, route.path)
        for route in walk([route for router in ROUTERS for route in router.routes])
        if isinstance(route, PortalRoute) and not route.public
        for method in getattr(route, "methods", ())
    ]
    assert routes and set(routes) == set(RULES)
