"""The HTTP sender: one aiohttp session, SSRF-checked name resolution, bounded response reads.

Names are resolved by :class:`GuardedResolver`, which refuses a destination when any address it
resolves to is forbidden and hands aiohttp only the addresses it checked, so the connection goes
to exactly what was checked (no DNS rebinding). URLs with literal IPs skip resolvers in aiohttp,
so :meth:`HttpSender.send` checks those itself.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from hookd.core.delivery import RESPONSE_READ_LIMIT, AttemptResult
from hookd.core.ssrf import Network, parse_address, refusal_reason

READ_CHUNK = 16 * 1024


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


class HttpSender:
    """Sends one signed request and reports what came back, never raising for network trouble."""

    def __init__(self, allow: tuple[Network, ...], *, user_agent: str, limit: int = 512) -> None:
        self._allow = allow
        self._user_agent = user_agent
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver(self._allow),
            limit=self._limit,
            limit_per_host=32,
            ttl_dns_cache=30,
            enable_cleanup_closed=True,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            trust_env=False,  # never route webhooks through a proxy from the environment
            auto_decompress=True,
            skip_auto_headers=("User-Agent",),
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

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float,  # noqa: ASYNC109 - the deadline is per destination, not per call site
    ) -> AttemptResult:
        """Make one request; time out after ``timeout`` seconds; never follow redirects."""
        refused = self._literal_refusal(url)
        if refused is not None:
            return AttemptResult(0, b"", 0, error=refused)
        if self._session is None:
            raise RuntimeError("HttpSender.start() was not called")
        all_headers: dict[str, Any] = {"User-Agent": self._user_agent, **headers}
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                async with self._session.request(
                    method, url, data=body, headers=all_headers, allow_redirects=False
                ) as response:
                    content = await _read_limited(response)
                    return AttemptResult(
                        response.status,
                        content,
                        _elapsed_ms(started),
                        retry_after=response.headers.get("Retry-After"),
                        delivery_control=response.headers.get("webhook-delivery"),
                    )
        except TimeoutError:
            return AttemptResult(
                0, b"", _elapsed_ms(started), error=f"timed out after {timeout:g} s"
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
