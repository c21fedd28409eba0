"""SSRF address rules: which destinations a webhook may be sent to.

Anything that is not a globally routable unicast address is refused (loopback, private, link-local,
CGNAT, multicast, reserved, documentation, benchmarking, unspecified), IPv4-mapped IPv6 forms of
those, and the IPv6 prefixes that tunnel to other networks (6to4, Teredo, NAT64). ``allow``
lists CIDRs an operator exempts (``HOOKD_ALLOW_NETWORKS``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Prefixes refused outright, beyond what ``is_global`` says, because they tunnel to other hosts.
_ALWAYS_REFUSED: tuple[Network, ...] = tuple(
    ipaddress.ip_network(cidr)
    for cidr in (
        "64:ff9b::/96",  # NAT64 (well-known prefix)
        "64:ff9b:1::/48",  # NAT64 (local-use)
        "2002::/16",  # 6to4
        "2001::/32",  # Teredo
    )
)


def parse_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """Parse CIDRs (``10.0.0.0/8``, ``::1/128``); raise ValueError naming the bad one."""
    networks = []
    for cidr in cidrs:
        text = cidr.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise ValueError(f"not a network: {text!r}") from exc
    return tuple(networks)


def _allowed(address: Address, allow: tuple[Network, ...]) -> bool:
    return any(address.version == net.version and address in net for net in allow)


def refusal_reason(address: Address, allow: tuple[Network, ...] = ()) -> str | None:
    """Why ``address`` may not be a webhook destination, or None when it may."""
    if _allowed(address, allow):
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return refusal_reason(address.ipv4_mapped, allow)
        if any(address in net for net in _ALWAYS_REFUSED):
            return f"{address} tunnels to another network (NAT64, 6to4 or Teredo)"
    for label, flag in (
        ("a loopback address", address.is_loopback),
        ("the unspecified address", address.is_unspecified),
        ("a link-local address", address.is_link_local),
        ("a multicast address", address.is_multicast),
        ("a private or special-purpose address", address.is_private),
        ("a reserved address", address.is_reserved),
    ):
        if flag:
            return f"{address} is {label}"
    if not address.is_global:
        return f"{address} is not a globally routable address"
    return None


def parse_address(host: str) -> Address | None:
    """The IP address a URL host names literally (``[::1]`` included), or None for a name."""
    text = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    text = text.split("%", 1)[0]  # drop an IPv6 zone id
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def literal_refusal(host: str, allow: tuple[Network, ...] = ()) -> str | None:
    """Why a URL host that is a literal address may not be a destination; None for an allowed
    address or a name (names are resolved and checked when something is sent)."""
    address = parse_address(host)
    return None if address is None else refusal_reason(address, allow)
