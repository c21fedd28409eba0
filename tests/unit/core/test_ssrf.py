"""SSRF address rules."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookd.core.ssrf import parse_address, parse_networks, refusal_reason

REFUSED = [
    "127.0.0.1",
    "127.255.255.254",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.169.254",
    "0.0.0.0",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.10",
    "198.18.0.1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.1.2.3",
    "::ffff:169.254.169.254",
    "64:ff9b::a00:1",
    "2002:a00:1::1",
    "2001::1",
    "2001:db8::1",
]
ALLOWED = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", REFUSED)
def test_refused(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ALLOWED)
def test_allowed(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) is None


@given(
    st.ip_addresses(network="10.0.0.0/8")
    | st.ip_addresses(network="192.168.0.0/16")
    | st.ip_addresses(network="fc00::/7")
)
def test_private_ranges_are_refused_also_when_mapped(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    assert refusal_reason(address) is not None
    if isinstance(address, ipaddress.IPv4Address):
        assert refusal_reason(ipaddress.IPv6Address(f"::ffff:{address}")) is not None


@given(st.ip_addresses(network="127.0.0.0/8"))
def test_allow_networks_exempt_exactly_their_cidrs(address: ipaddress.IPv4Address) -> None:
    allow = parse_networks(["127.0.0.0/8"])
    assert refusal_reason(address, allow) is None
    assert refusal_reason(ipaddress.IPv6Address(f"::ffff:{address}"), allow) is None
    assert refusal_reason(ipaddress.ip_address("10.0.0.1"), allow) is not None


def test_parse_address_and_networks() -> None:
    assert parse_address("[::1]") == ipaddress.ip_address("::1")
    assert parse_address("example.com") is None
    assert parse_address("fe80::1%eth0") == ipaddress.ip_address("fe80::1")
    with pytest.raises(ValueError, match="not a network"):
        parse_networks(["10.0.0.0/33"])


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("http://127.0.0.1:8080/x", True),
        ("https://[::1]/x", True),
        ("http://[fe80::1%25eth0]/x", True),
        ("http://10.9.8.7/x", True),
        ("amqp://guest:guest@169.254.169.254/?queue=q", True),
        ("http://10.1.2.3/x", False),  # allow-listed below
        ("http://localhost/x", False),  # a name: checked when it is resolved, at send time
        ("http://8.8.8.8/x", False),
        ("redis://redis.example.com:6379/0?stream=s", False),
    ],
)
def test_url_host_refusal_checks_literal_hosts_only(url: str, refused: bool) -> None:
    from hookd.core.urls import url_host_refusal

    reason = url_host_refusal(url, parse_networks(["10.1.0.0/16"]))
    assert (reason is not None) == refused
    if reason is not None:
        assert "HOOKD_ALLOW_NETWORKS" in reason
