"""The source seam: registry, IP allowlist, secret rotation config, request description."""

from __future__ import annotations

from typing import Any

import pytest

from hookd.core.providers import (
    PROVIDERS,
    ConfigError,
    handshake_reply,
    ip_allowed,
    parse_cidrs,
    parse_verifier,
)
from hookd.core.providers.request import Headers
from tests.unit.providers.inbound_builders import NOW, check, inbound, source


def test_registry_names_match_providers() -> None:
    assert set(PROVIDERS) == {
        "generic-webhook", "standard-webhooks", "svix", "stripe", "github", "gitlab", "shopify",
        "slack", "twilio", "meta", "paddle", "zoom", "discord", "twitch", "microsoft-graph", "bin",
        "relay",
    }  # fmt: skip
    assert all(provider.name == name for name, provider in PROVIDERS.items())


@pytest.mark.parametrize(
    ("remote_ip", "allowed"),
    [
        ("192.0.2.10", True),
        ("::ffff:192.0.2.10", True),
        ("2001:db8::1", True),
        ("198.51.100.1", False),
        ("not-an-ip", False),
        (None, False),
    ],
)
def test_ip_allowed(remote_ip: str | None, allowed: bool) -> None:
    networks = parse_cidrs(["192.0.2.0/24", "2001:db8::/32"])
    assert ip_allowed(remote_ip, networks) is allowed
    assert ip_allowed(remote_ip, ())


def test_allowlist_gates_verify_and_handshake() -> None:
    src = source("microsoft-graph", secret="state", allowedIps=["192.0.2.0/24"])
    url = "https://h.example/in/s?validationToken=abc"
    assert handshake_reply(src, inbound(url=url, remote_ip="192.0.2.1"), NOW) is not None
    assert handshake_reply(src, inbound(url=url, remote_ip="198.51.100.1"), NOW) is None
    refused = check(src, inbound(b'{"value":[{"clientState":"state"}]}', remote_ip="198.51.100.1"))
    assert (refused.ok, refused.code) == (False, "ip_not_allowed")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"secret": "s", "allowedIps": ["10.0.0.1/8"]}, "allowedIps"),
        ({"secret": "s", "allowedIps": "10.0.0.0/8"}, "allowedIps"),
        ({"secret": "s", "previousSecret": "p"}, "previousSecretExpiresAt"),
        (
            {"secret": "s", "previousSecretExpiresAt": "2026-01-01T00:00:00Z"},
            "previousSecretExpiresAt",
        ),
        (
            {
                "secret": "s",
                "previousSecret": "p",
                "previousSecretExpiresAt": "2026-01-01T00:00:00",
            },
            "previousSecretExpiresAt",
        ),
        (
            {"secret": "s", "previousSecret": "p", "previousSecretExpiresAt": "soon"},
            "previousSecretExpiresAt",
        ),
        ({"secret": ""}, "secret"),
        ({"secret": 5}, "secret"),
        ({}, "secret"),
        ({"secret": "s", "toleranceSeconds": 0}, "toleranceSeconds"),
        ({"secret": "s", "toleranceSeconds": True}, "toleranceSeconds"),
        ({"secret": "s", "extra": 1}, "extra"),
    ],
)
def test_config_errors(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_verifier("stripe", raw)
    assert error.value.field == field


def test_unknown_provider() -> None:
    with pytest.raises(ConfigError) as error:
        parse_verifier("myspace", {})
    assert error.value.field == "provider"


def test_headers_are_case_insensitive_and_keep_repeats() -> None:
    headers = Headers([("X-A", "1"), ("x-a", "2")])
    assert headers.get("x-A") == "1"
    assert headers.get_all("X-A") == ("1", "2")
    assert "X-a" in headers
    assert headers.get("missing") is None
