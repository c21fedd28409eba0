"""Rendering: the Jinja2 environment (every value escaped), the filters pages share, and
``page()``, which renders a template inside the layout with the visitor's navigation."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from hookd import __version__
from hookd.core.domain import Page
from hookd.core.masking import mask_url

STATIC = Path(__file__).parent / "static"
STATIC_PREFIX = "/console/static"


@dataclass(frozen=True, slots=True)
class NavItem:
    """An entry of the console's navigation: ``path`` is active for itself and below."""

    label: str
    path: str


@cache
def static_url(name: str) -> str:
    """A static file's URL, with a digest of its content: cached for a year, refetched when the
    file changes (a new hookd version)."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"{STATIC_PREFIX}/{name}?v={digest}"


def when(moment: datetime | None) -> str:
    """A time as the console shows it: UTC, to the second."""
    if moment is None:
        return "—"
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat().replace("+00:00", "Z")


def pretty(content: bytes | str | None) -> str:
    """JSON indented for reading; anything else as text."""
    if content is None:
        return ""
    text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("hookd.api.console", "templates"),
        autoescape=True,  # every value, whatever the template's name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(static=static_url, version=__version__)
    env.filters.update(when=when, iso=iso, pretty=pretty, to_json=to_json, masked_url=mask_url)
    return env


def nav_items() -> tuple[NavItem, ...]:
    from hookd.api.console.pages import NAV  # the pages import this module

    return NAV


def page(
    request: Request,
    template: str,
    values: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    title: str = "",
) -> HTMLResponse:
    """``template`` rendered with ``values`` and what the layout needs (visitor, navigation,
    the notice of the ``notice`` query parameter)."""
    visitor = getattr(request.state, "visitor", None)
    path = request.url.path
    nav = [(item, path == item.path or path.startswith(item.path + "/")) for item in nav_items()]
    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            visitor=visitor,
            csrf=visitor.csrf if visitor is not None else "",
            nav=nav,
            notice=notice_text(request),
            title=title,
            **(values or {}),
        )
    )
    return HTMLResponse(html, status_code=status_code)


def notice_text(request: Request) -> str | None:
    """The notice of the request's ``notice`` query parameter (see :data:`NOTICES`)."""
    text = NOTICES.get(request.query_params.get("notice", ""))
    count = request.query_params.get("count", "")
    if text is not None and "{count}" in text:
        text = text.replace("{count}", count if count.isdigit() else "some")
    return text


# What a page says after a redirect (``?notice=<code>``): fixed texts, so a link cannot make
# the console say anything else (but a number: ``{count}`` is the ``count`` parameter's digits).
NOTICES: dict[str, str] = {}


def notice(code: str, text: str) -> str:
    """Register a notice text under ``code`` (pages call this at import) and return the code."""
    NOTICES[code] = text
    return code


def see_other(
    url: str, *, notice_code: str | None = None, count: int | None = None
) -> RedirectResponse:
    """The answer to a form post: go (GET) to ``url``, with a notice to show there."""
    if notice_code is not None:
        query = {"notice": notice_code, **({"count": str(count)} if count is not None else {})}
        url += ("&" if "?" in url else "?") + urlencode(query)
    return RedirectResponse(url, status_code=303)


def page_links(request: Request, page: Page[Any]) -> tuple[str | None, str | None]:
    """The URLs of the previous and next pages of a cursor-paginated list (the current query
    with another ``iterator``)."""
    query = {
        k: v for k, v in request.query_params.items() if k not in ("iterator", "notice", "count")
    }

    def link(iterator: str | None) -> str:
        return request.url.path + "?" + urlencode({**query, "iterator": iterator or ""})

    previous = None
    if request.query_params.get("iterator") and page.prev_iterator:
        previous = link(page.prev_iterator)
    following = None if page.done or not page.iterator else link(page.iterator)
    return previous, following
