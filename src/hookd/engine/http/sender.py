"""The HTTP sender: SSRF-checked, keep-alive HTTP/1.1 requests with one deadline each and a
bounded response read, on hookd's own lean client (``http_pool``, ``http_connection``).

Why not aiohttp's ClientSession, which hookd used before: a webhook delivery needs a small part
of an HTTP client (no cookies, proxies, redirects or streaming), and ClientSession's generality
cost several times this client's CPU per request on this path, about half of hookd's CPU per
delivery (measured: README, Performance). httptools parses the responses.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from typing import Protocol

from hookd.core.delivery import RESPONSE_READ_LIMIT, AttemptResult, Failure
from hookd.core.http_wire import HttpTarget, decoded_body, parse_http_target, request_head
from hookd.core.ssrf import Network
from hookd.engine import durations
from hookd.engine.http.connection import ResponseError, TlsFailed
from hookd.engine.http.names import AddressRefused, GuardedNames
from hookd.engine.http.pool import ConnectFailed, ConnectionPool

# Parsed destination URLs kept per sender (an endpoint's URL is parsed once).
TARGET_CACHE_SIZE = 4096

# Connections to one host at once. HOOKD_ENDPOINT_CONCURRENCY defaults to the same, so the
# deliveries of one endpoint never wait for a connection (their timeout would run meanwhile).
CONNECTIONS_PER_HOST = 64


class Sender(Protocol):
    """What the worker sends with: :class:`HttpSender`, or a fake in unit tests."""

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float,  # noqa: ASYNC109 - the deadline is per destination, not per call site
        *,
        tls: ssl.SSLContext | None = None,
    ) -> AttemptResult:
        """Make one request; never raises for network trouble."""
        ...


class HttpSender:
    """Sends one signed request and reports what came back, never raising for network trouble."""

    def __init__(
        self,
        allow: tuple[Network, ...],
        *,
        user_agent: str,
        limit: int = 512,
        own: tuple[str, int] | None = None,
    ) -> None:
        # ``own``: the server's public host and port, which the guard lets through (names.py).
        self._names = GuardedNames(allow, own=own)
        self._user_agent = user_agent
        self._limit = limit
        self._pool: ConnectionPool | None = None
        self._destinations: dict[str, HttpTarget] = {}
        self._default_tls: ssl.SSLContext | None = None

    async def start(self) -> None:
        self._default_tls = ssl.create_default_context()
        self._pool = ConnectionPool(
            self._names,
            limit=self._limit,
            per_origin=CONNECTIONS_PER_HOST,
            body_limit=RESPONSE_READ_LIMIT,
        )
        self._pool.start()

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    def _destination(self, url: str) -> HttpTarget:
        destination = self._destinations.get(url)
        if destination is None:
            destination = parse_http_target(url)
            if len(self._destinations) >= TARGET_CACHE_SIZE:
                self._destinations.clear()
            self._destinations[url] = destination
        return destination

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float,  # noqa: ASYNC109 - the deadline is per destination, not per call site
        *,
        tls: ssl.SSLContext | None = None,
    ) -> AttemptResult:
        """Make one request; time out after ``timeout`` seconds; never follow redirects.

        ``tls`` replaces the default verification context (an endpoint's mutual TLS settings).
        """
        try:
            destination = self._destination(url)
        except ValueError as exc:
            return AttemptResult.no_response(
                f"request failed: invalid URL: {exc}", failure=Failure.ERROR
            )
        if self._pool is None:
            raise RuntimeError("HttpSender.start() was not called")
        try:
            head = request_head(
                method, destination, headers, len(body), user_agent=self._user_agent
            )
        except ValueError as exc:
            return AttemptResult.no_response(f"request failed: {exc}", failure=Failure.ERROR)
        context = (tls or self._default_tls) if destination.tls else None
        started = durations.mark()
        try:
            async with asyncio.timeout(timeout):
                response = await self._pool.exchange(
                    destination, context, head, body, bodiless=method == "HEAD"
                )
        except TimeoutError:
            return AttemptResult.no_response(
                f"timed out after {timeout:g} s",
                durations.elapsed_ms(started),
                timed_out=True,
                failure=Failure.TIMEOUT,
            )
        except AddressRefused as exc:
            return AttemptResult.no_response(
                str(exc), durations.elapsed_ms(started), failure=Failure.REFUSED
            )
        except ConnectFailed as exc:
            return AttemptResult.no_response(
                f"connection failed: {exc.cause}",
                durations.elapsed_ms(started),
                failure=Failure.TLS if isinstance(exc.cause, ssl.SSLError) else Failure.CONNECTION,
            )
        except (ResponseError, OSError, ValueError) as exc:  # ValueError: e.g. a bad TLS name
            return AttemptResult.no_response(
                f"request failed: {type(exc).__name__}: {exc}",
                durations.elapsed_ms(started),
                failure=_failure_of(exc),
            )
        retry_after = control = coding = None
        for name, value in response.headers:
            lowered = name.lower()
            if lowered == "retry-after":
                retry_after = value
            elif lowered == "webhook-delivery":
                control = value
            elif lowered == "content-encoding":
                coding = value
        return AttemptResult(
            response.status,
            decoded_body(response.body, coding, RESPONSE_READ_LIMIT),
            durations.elapsed_ms(started),
            retry_after=retry_after,
            headers=tuple(response.headers),
            delivery_control=control,
        )


def _failure_of(exc: Exception) -> Failure:
    """The class of a request that failed after its connection was made (or on the way)."""
    if isinstance(exc, TlsFailed | ssl.SSLError):
        return Failure.TLS
    if isinstance(exc, ResponseError):
        return Failure.ERROR  # a broken response
    if isinstance(exc, OSError):
        return Failure.CONNECTION  # the name did not resolve, or the connection broke
    return Failure.ERROR
