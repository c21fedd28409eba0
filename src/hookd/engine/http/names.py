"""Name resolution with the SSRF guard, for HTTP deliveries and brokers alike.

A name is refused when any address it resolves to is not allowed, and connections go only to
the addresses that were checked, so a second lookup cannot rebind the name to a private address.
The sender keeps answers for ``DNS_TTL_SECONDS`` (:class:`GuardedNames`).
"""

from __future__ import annotations

import asyncio
import socket
import time

from hookd.core.ssrf import Network, parse_address, parse_networks, refusal_reason

DNS_TTL_SECONDS = 30.0
# Said with every refusal: the one setting that lets an operator reach such a network on purpose.
ALLOW_HINT = " (HOOKD_ALLOW_NETWORKS lists the networks exempt from this guard)"
MAX_CACHED_NAMES = 4096
# Every address: what the server's own public host and port may resolve to (``own`` below).
EVERYWHERE = parse_networks(("0.0.0.0/0", "::/0"))


class AddressRefused(OSError):
    """The SSRF guard refused every way to reach a destination."""


def _address_refusal(address: str, allow: tuple[Network, ...]) -> str | None:
    """Why an address may not be a destination, or None."""
    parsed = parse_address(address)
    if parsed is None:
        return "unparseable address"
    return refusal_reason(parsed, allow)


async def checked_addresses(host: str, port: int, allow: tuple[Network, ...]) -> list[str]:
    """The addresses of ``host`` (a name or a literal), in the resolver's order.

    AddressRefused when any of them is not allowed; OSError when there are none.
    """
    literal = parse_address(host)
    if literal is not None:
        reason = refusal_reason(literal, allow)
        if reason is not None:
            raise AddressRefused(f"destination refused: {reason}{ALLOW_HINT}")
        return [str(literal)]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"cannot resolve {host}: {exc.strerror}") from exc
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        reason = _address_refusal(address, allow)
        if reason is not None:
            raise AddressRefused(f"destination refused: {host} resolves to {reason}{ALLOW_HINT}")
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise OSError(f"cannot resolve {host}: no addresses")
    return addresses


class GuardedNames:
    """:func:`checked_addresses` with answers (refusals too) kept for ``ttl`` seconds.

    ``own``, the host and port of the server's public URL (``Settings.own_address``), is reached
    whatever it resolves to: the server's own listener (its bins' and sources' capture URLs),
    whose every other route needs a token. Only that port of that host name or address."""

    def __init__(
        self,
        allow: tuple[Network, ...],
        *,
        ttl: float = DNS_TTL_SECONDS,
        own: tuple[str, int] | None = None,
    ) -> None:
        self._allow = allow
        self._ttl = ttl
        self._own = own
        # (name, port) -> (expires at, addresses or the refusal)
        self._answers: dict[tuple[str, int], tuple[float, list[str] | AddressRefused]] = {}

    async def addresses(self, host: str, port: int) -> list[str]:
        now = time.monotonic()
        cached = self._answers.get((host, port))
        if cached is None or cached[0] <= now:
            answer: list[str] | AddressRefused
            try:
                allow = EVERYWHERE if (host.lower(), port) == self._own else self._allow
                answer = await checked_addresses(host, port, allow)
            except AddressRefused as exc:
                answer = exc
            if len(self._answers) >= MAX_CACHED_NAMES:
                self._answers.clear()
            cached = self._answers[(host, port)] = (now + self._ttl, answer)
        if isinstance(cached[1], AddressRefused):
            raise AddressRefused(str(cached[1]))
        return cached[1]
