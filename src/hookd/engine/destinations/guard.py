"""The SSRF guard for brokers: the same address rule as HTTP, applied before connecting.

Endpoint URLs come from API users, so a broker host is resolved and refused when any of its
addresses is not global (unless the operator allowed its network). Plain-TCP clients then
connect to the checked address itself, so a second DNS answer cannot redirect them.
"""

from __future__ import annotations

from hookd.core.ssrf import Network
from hookd.engine.http.names import checked_addresses


async def checked_address(host: str, port: int, allow: tuple[Network, ...]) -> str:
    """Resolve ``host`` and return an address to connect to, or raise AddressRefused."""
    return (await checked_addresses(host, port, allow))[0]


def host_for_url(address: str) -> str:
    """An address as it goes into a URL or a host:port pair (IPv6 in brackets)."""
    return f"[{address}]" if ":" in address else address
