"""The SSRF guard for brokers: the same address rule as HTTP, applied before connecting.

Endpoint URLs come from API users, so a broker host is resolved and refused when any of its
addresses is not global (unless the operator allowed its network). Plain-TCP clients then
connect to the checked address itself, so a second DNS answer cannot redirect them.
"""

from __future__ import annotations

import asyncio
import socket

from hookd.core.ssrf import Network, parse_address, refusal_reason
from hookd.engine.http import DestinationRefused


async def checked_address(host: str, port: int, allow: tuple[Network, ...]) -> str:
    """Resolve ``host`` and return an address to connect to, or raise DestinationRefused."""
    literal = parse_address(host)
    if literal is not None:
        reason = refusal_reason(literal, allow)
        if reason is not None:
            raise DestinationRefused(f"destination refused: {reason}")
        return str(literal)
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"cannot resolve {host}: {exc.strerror}") from exc
    addresses: list[str] = []
    for info in infos:
        text = str(info[4][0])
        address = parse_address(text)
        reason = "unparseable address" if address is None else refusal_reason(address, allow)
        if reason is not None:
            raise DestinationRefused(f"destination refused: {host} resolves to {reason}")
        addresses.append(text)
    if not addresses:
        raise OSError(f"cannot resolve {host}: no addresses")
    return addresses[0]


def host_for_url(address: str) -> str:
    """An address as it goes into a URL or a host:port pair (IPv6 in brackets)."""
    return f"[{address}]" if ":" in address else address
