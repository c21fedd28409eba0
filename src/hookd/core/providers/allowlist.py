"""Source IP allowlists: a request is accepted only from the listed networks."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from hookd.core.providers.model import ConfigError

__all__ = ["Network", "ip_allowed", "parse_cidrs"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_cidrs(values: object, field: str = "allowedIps") -> tuple[Network, ...]:
    """A JSON list of CIDRs (or bare addresses) as networks; host bits must be zero."""
    if values is None:
        return ()
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ConfigError(field, "must be a list of CIDR strings such as 192.0.2.0/24")
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=True))
        except ValueError:
            raise ConfigError(field, f"{value!r} is not a CIDR with zero host bits") from None
    return tuple(networks)


def _address(remote_ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(remote_ip.strip())
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; match them against IPv4 CIDRs.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def ip_allowed(remote_ip: str | None, cidrs: Sequence[Network] | Iterable[Network]) -> bool:
    """Whether ``remote_ip`` is in one of ``cidrs``; an empty allowlist allows everyone."""
    networks = tuple(cidrs)
    if not networks:
        return True
    if remote_ip is None:
        return False
    address = _address(remote_ip)
    if address is None:
        return False
    return any(address.version == net.version and address in net for net in networks)
