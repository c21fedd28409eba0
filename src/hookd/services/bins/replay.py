"""Sending a captured request again, to any URL, through the SSRF guard.

The request goes out with its method, headers (the hop's own left out: the sender frames the
request itself) and exact body, so a signature the original sender made still verifies at the
new URL. The URL is used as given: the capture's sub-path and query are not added to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol
from urllib.parse import urlsplit

from hookd.core.delivery import AttemptResult, Failure
from hookd.core.urls import url_host_refusal, url_problem
from hookd.services.bins.bins import get_capture
from hookd.services.context import Context
from hookd.services.errors import Invalid

# The hop's own headers: the sender writes Host and the framing for the new connection.
HOP_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "proxy-authorization",
        "proxy-connection",
    }
)
URL_NOT_ALLOWED = "url_not_allowed"


class RequestSender(Protocol):
    """Sends one request and says what came back, never raising for network trouble (the
    API's :class:`~hookd.engine.http.sender.HttpSender`, SSRF-guarded)."""

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float,  # noqa: ASYNC109 - the replay's own deadline
    ) -> AttemptResult: ...


def replayed_headers(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The captured headers that go out again; a repeated name's values joined as HTTP allows."""
    kept: dict[str, str] = {}
    for name, value in pairs:
        lower = name.lower()
        if lower in HOP_HEADERS:
            continue
        kept[lower] = f"{kept[lower]}, {value}" if lower in kept else value
    return kept


def _check_url(ctx: Context, url: str) -> None:
    problem = url_problem(url)
    if problem is None and urlsplit(url).scheme.lower() not in ("http", "https"):
        problem = "URL scheme must be http or https"
    if problem is not None:
        raise Invalid(problem, loc=("body", "url"))
    refusal = url_host_refusal(url, ctx.settings.networks, ctx.settings.own_address)
    if refusal is not None:
        raise Invalid(refusal, loc=("body", "url"), code=URL_NOT_ALLOWED)


async def replay_capture(
    ctx: Context,
    bin_id: str,
    request_id: str,
    url: str,
    sender: RequestSender,
    timeout: float,  # noqa: ASYNC109 - the replay's own deadline
) -> AttemptResult:
    """Send capture ``request_id`` of bin ``bin_id`` to ``url``; what came back (status 0 and
    ``error`` when nothing answered). A destination the guard refuses is Invalid."""
    _check_url(ctx, url)
    record = await get_capture(ctx, bin_id, request_id)
    headers = replayed_headers(record.headers)
    result = await sender.send(record.method, url, headers, record.body, timeout)
    if result.failure == Failure.REFUSED:  # a name that resolves to a refused address
        raise Invalid(
            result.error or "destination refused", loc=("body", "url"), code=URL_NOT_ALLOWED
        )
    return result
