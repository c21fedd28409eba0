"""Who may do what (hookd.core.access): scopes, capabilities and route rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hookd.core.access import (
    ADMIN,
    ADMIN_ONLY,
    ApiKey,
    Capability,
    PortalToken,
    Principal,
    Rule,
    Scope,
    allows,
    app_rule,
    effective,
    flagged_visible,
    portal_capabilities,
    read_rule,
)

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def key(scope: Scope, app_id: str | None = None) -> ApiKey:
    return ApiKey("key_1", "k", scope, app_id, NOW, None, None)


def portal(*capabilities: Capability, flags: frozenset[str] = frozenset()) -> PortalToken:
    granted = portal_capabilities(capabilities or None, read_only=False)
    return PortalToken("ptok_1", "app_1", granted, flags, None, NOW, NOW + timedelta(hours=1))


RULES = {
    "admin only": ADMIN_ONLY,
    "global read": read_rule(),
    "event types": read_rule(shared=True),
    "own task": Rule(Capability.VIEW_BASE, owned=True),
    "app read": app_rule(Capability.VIEW_BASE),
    "secret": app_rule(Capability.VIEW_ENDPOINT_SECRET),
    "endpoint": app_rule(Capability.MANAGE_ENDPOINT),
    "send": app_rule(Capability.MANAGE_APPLICATION),
}


@pytest.mark.parametrize(
    ("principal", "method", "allowed"),
    [
        (ADMIN, "POST", set(RULES)),
        (key(Scope.ADMIN).principal(), "DELETE", set(RULES)),
        (
            key(Scope.READ_ONLY).principal(),
            "GET",
            {"global read", "event types", "own task", "app read"},
        ),
        (key(Scope.READ_ONLY).principal(), "POST", set()),
        (
            key(Scope.APPLICATION, "app_1").principal(),
            "GET",
            {"event types", "own task", "app read", "secret", "endpoint", "send"},
        ),
        (
            key(Scope.APPLICATION, "app_1").principal(),
            "POST",
            {"app read", "secret", "endpoint", "send"},
        ),
        (portal(Capability.VIEW_BASE).principal(), "GET", {"event types", "own task", "app read"}),
        (
            portal(Capability.MANAGE_ENDPOINT).principal(),
            "POST",
            {"app read", "secret", "endpoint"},
        ),
        (portal().principal(), "PUT", {"app read", "secret", "endpoint"}),
    ],
)
def test_who_may_use_which_route(principal: Principal, method: str, allowed: set[str]) -> None:
    assert {name for name, rule in RULES.items() if allows(principal, rule, method)} == allowed


def test_capabilities_bring_what_they_imply() -> None:
    assert effective([]) == {Capability.VIEW_BASE}
    assert effective([Capability.MANAGE_ENDPOINT_SECRET]) == {
        Capability.VIEW_BASE,
        Capability.VIEW_ENDPOINT_SECRET,
        Capability.MANAGE_ENDPOINT_SECRET,
    }
    assert Capability.MANAGE_TRANSFORMATIONS not in effective([Capability.MANAGE_ENDPOINT])
    assert effective([Capability.MANAGE_APPLICATION]) == set(Capability)


def test_a_portal_token_gets_svix_defaults() -> None:
    everything = portal_capabilities(None, read_only=False)
    assert Capability.MANAGE_APPLICATION not in everything and len(everything) == 6
    assert portal_capabilities([Capability.MANAGE_ENDPOINT], read_only=True) == {
        Capability.VIEW_BASE
    }
    assert portal_capabilities([Capability.CREATE_ATTEMPTS], read_only=False) == {
        Capability.VIEW_BASE,
        Capability.CREATE_ATTEMPTS,
    }


def test_principals_expire_and_see_their_feature_flags() -> None:
    token = portal(flags=frozenset({"beta"})).principal()
    assert not token.expired(NOW) and token.expired(NOW + timedelta(hours=1))
    assert not ADMIN.expired(NOW + timedelta(days=10_000))
    assert flagged_visible([], token.feature_flags)
    assert flagged_visible(["beta", "gamma"], token.feature_flags)
    assert not flagged_visible(["gamma"], token.feature_flags)
    assert flagged_visible(["gamma"], ADMIN.feature_flags)
