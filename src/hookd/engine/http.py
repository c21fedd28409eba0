"""The HTTP sender: one aiohttp session, SSRF-checked name resolution, bounded response reads.

Names are resolved by :class:`GuardedResolver`, which refuses a destination when any address it
resolves to is forbidden and hands aiohttp only the addresses it checked, so the connection goes
to exactly what was checked (no DNS rebinding). URLs with literal IPs skip resolvers in aiohttp,
so :meth:`HttpSender.send` checks those itself.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from hookd.core.delivery import RESPONSE_READ_LIMIT, AttemptResult
from hookd.core.ssrf import Network, parse_address, refusal_reason

READ_CHUNK = 16 * 1024
# Parsed destination URLs kept per sender (an endpoint's URL is parsed and checked once).
TARGET_CACHE_SIZE = 4096
# aiohttp's own timers are off: one ``asyncio.timeout`` per request is the only deadline.
NO_AIOHTTP_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=None, sock_connect=None)

# Connections to one host at once. HOOKD_ENDPOINT_CONCURRENCY defaults to the same, so the
# deliveries of one endpoint never wait for a connection (their timeout would run meanwhile).
CONNECTIONS_PER_HOST = 64


class DestinationRefused(OSError):
    """The SSRF guard refused every way to reach a destination."""


class GuardedResolver(AbstractResolver):
    """Resolve names, then refuse the whole name if any address is not allowed."""

    def __init__(self, allow: tuple[Network, ...]) -> None:
        self._inner = DefaultResolver()
        self._allow = allow

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            address = parse_address(result["host"])
            reason = (
                "unparseable address" if address is None else refusal_reason(address, self._allow)
            )
            if reason is not None:
                raise DestinationRefused(f"destination refused: {host} resolves to {reason}")
        return results

    async def close(self) -> None:
        await self._inner.close()


class _Target:
    """A destination URL parsed once: the yarl URL aiohttp takes, and the SSRF verdict."""

    __slots__ = ("refused", "url")

    def __init__(self, url: URL, refused: str | None) -> None:
        self.url = url
        self.refused = refused


class HttpSender:
    """Sends one signed request and reports what came back, never raising for network trouble."""

    def __init__(self, allow: tuple[Network, ...], *, user_agent: str, limit: int = 512) -> None:
        self._allow = allow
        self._user_agent = user_agent
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None
        self._targets: dict[str, _Target] = {}

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver(self._allow),
            limit=self._limit,
            limit_per_host=CONNECTIONS_PER_HOST,
            ttl_dns_cache=30,
            enable_cleanup_closed=True,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            trust_env=False,  # never route webhooks through a proxy from the environment
            auto_decompress=True,
            headers={"User-Agent": self._user_agent},  # an endpoint's own header overrides it
            timeout=NO_AIOHTTP_TIMEOUT,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _literal_refusal(self, url: str) -> str | None:
        host = urlsplit(url).hostname or ""
        address = parse_address(host)
        if address is None:
            return None
        reason = refusal_reason(address, self._allow)
        return None if reason is None else f"destination refused: {reason}"

    def _target(self, url: str) -> _Target:
        target = self._targets.get(url)
        if target is None:
            if len(self._targets) >= TARGET_CACHE_SIZE:
                self._targets.clear()
            target = _Target(URL(url), self._literal_refusal(url))
            self._targets[url] = target
        return target

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
            target = self._target(url)
        except ValueError as exc:
            return AttemptResult(0, b"", 0, error=f"request failed: invalid URL: {exc}")
        if target.refused is not None:
            return AttemptResult(0, b"", 0, error=target.refused)
        if self._session is None:
            raise RuntimeError("HttpSender.start() was not called")
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                async with self._session.request(
                    method,
                    target.url,
                    data=body,
                    headers=headers,
                    allow_redirects=False,
                    ssl=tls if tls is not None else True,
                ) as response:
                    content = await _read_limited(response)
                    return AttemptResult(
                        response.status,
                        content,
                        _elapsed_ms(started),
                        retry_after=response.headers.get("Retry-After"),
                        headers=tuple(response.headers.items()),
                        delivery_control=response.headers.get("webhook-delivery"),
                    )
        except TimeoutError:
            return AttemptResult(
                0,
                b"",
                _elapsed_ms(started),
                error=f"timed out after {timeout:g} s",
                timed_out=True,
            )
        except DestinationRefused as exc:
            return AttemptResult(0, b"", _elapsed_ms(started), error=str(exc))
        except aiohttp.ClientConnectorError as exc:
            cause = exc.os_error
            if isinstance(cause, DestinationRefused):
                return AttemptResult(0, b"", _elapsed_ms(started), error=str(cause))
            return AttemptResult(0, b"", _elapsed_ms(started), error=f"connection failed: {cause}")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return AttemptResult(
                0, b"", _elapsed_ms(started), error=f"request failed: {type(exc).__name__}: {exc}"
            )


async def _read_limited(response: aiohttp.ClientResponse) -> bytes:
    """Read at most 64 KiB of the body; the rest is dropped with the connection."""
    chunks: list[bytes] = []
    size = 0
    while size < RESPONSE_READ_LIMIT:
        chunk = await response.content.read(min(READ_CHUNK, RESPONSE_READ_LIMIT - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
