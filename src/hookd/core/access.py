"""Who may do what: principals, their scopes and capabilities, and the rule of a route.

A request's **principal** is whoever its ``Authorization: Bearer`` token names: the admin token
(the root credential), an API key (scope ``admin``, ``read_only`` or ``application``), or an app
portal token (one application, Svix's capabilities). A route's :class:`Rule` says what it needs;
:func:`allows` decides. Whether a route's application is the principal's own is the caller's
question (it may need the database: the path may name the application by uid), asked before
:func:`allows` so that another application's ids answer 404 exactly as missing ones do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal


class Scope(StrEnum):
    """What an API key may reach (the admin token is ``ADMIN``, a portal token ``APPLICATION``)."""

    ADMIN = "admin"  # everything, like the admin token
    READ_ONLY = "read_only"  # every read but secrets and transformations; no write
    APPLICATION = "application"  # one application, with every capability in it


class Capability(StrEnum):
    """What a principal may do inside its application: Svix's app portal capabilities, plus
    hookd's own ``ManageApplication`` (never given to a portal token)."""

    VIEW_BASE = "ViewBase"  # read endpoints, messages, attempts, event types; no secret
    VIEW_ENDPOINT_SECRET = "ViewEndpointSecret"  # noqa: S105 - a capability name
    # Rotate (and view) the secret.
    MANAGE_ENDPOINT_SECRET = "ManageEndpointSecret"  # noqa: S105 - a capability name
    MANAGE_TRANSFORMATIONS = "ManageTransformations"  # read and change transformations
    CREATE_ATTEMPTS = "CreateAttempts"  # resend, recover
    MANAGE_ENDPOINT = "ManageEndpoint"  # create, change, delete endpoints and their headers
    # The rest of an application: its settings, sending messages and calls, deleting payloads,
    # minting portal tokens for it. API keys of scope "application" and admins only.
    MANAGE_APPLICATION = "ManageApplication"


PORTAL_CAPABILITIES = frozenset(
    {
        Capability.VIEW_BASE,
        Capability.VIEW_ENDPOINT_SECRET,
        Capability.MANAGE_ENDPOINT_SECRET,
        Capability.MANAGE_TRANSFORMATIONS,
        Capability.CREATE_ATTEMPTS,
        Capability.MANAGE_ENDPOINT,
    }
)
ALL_CAPABILITIES = frozenset(Capability)
# What each capability brings with it (Svix: rotating a secret shows it; managing an endpoint
# covers "any field or configuration of an endpoint, including secrets").
_IMPLIED = {
    Capability.MANAGE_ENDPOINT_SECRET: {Capability.VIEW_ENDPOINT_SECRET},
    Capability.MANAGE_ENDPOINT: {
        Capability.VIEW_ENDPOINT_SECRET,
        Capability.MANAGE_ENDPOINT_SECRET,
    },
    Capability.MANAGE_APPLICATION: ALL_CAPABILITIES,
}
# Capabilities a read-only key has everywhere: reading, never a secret or a transformation.
READ_ONLY_CAPABILITIES = frozenset({Capability.VIEW_BASE})

# Methods that change nothing.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

PrincipalKind = Literal["admin", "api_key", "portal"]


def flagged_visible(flags: Iterable[str], held: frozenset[str] | None) -> bool:
    """Whether an event type with feature ``flags`` is visible to a holder of ``held`` (None:
    every type, as for admins and API keys): types without a flag are for all, the others for
    holders of one of their flags (Svix's feature-flagged event types)."""
    if held is None:
        return True
    flags = tuple(flags)
    return not flags or any(flag in held for flag in flags)


def effective(capabilities: Iterable[Capability]) -> frozenset[Capability]:
    """``capabilities`` with what they imply, ``ViewBase`` always (Svix requires it)."""
    given = set(capabilities) | {Capability.VIEW_BASE}
    for capability in list(given):
        given |= _IMPLIED.get(capability, set())
    return frozenset(given)


def portal_capabilities(
    requested: Iterable[Capability] | None, *, read_only: bool
) -> frozenset[Capability]:
    """A new portal token's capabilities: all of Svix's when none are asked for, ``ViewBase``
    alone in read-only mode (``readOnly`` wins over a list)."""
    if read_only:
        return frozenset({Capability.VIEW_BASE})
    if requested is None:
        return PORTAL_CAPABILITIES
    return frozenset(requested) | {Capability.VIEW_BASE}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request is. ``name`` tells principals apart (idempotency keys are scoped by it):
    ``"admin"`` for the admin token, the key's id for an API key, the token's id for a portal
    token."""

    name: str
    kind: PrincipalKind
    scope: Scope
    app_id: str | None = None  # the one application it sees (scope APPLICATION)
    capabilities: frozenset[Capability] = ALL_CAPABILITIES  # with what they imply
    expires_at: datetime | None = None
    session_id: str | None = None  # a portal token's session (Svix's sessionId)
    # A portal token's feature flags: it sees the event types without a flag or with one of these.
    feature_flags: frozenset[str] | None = None

    @property
    def full_admin(self) -> bool:
        return self.scope is Scope.ADMIN

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


ADMIN = Principal(name="admin", kind="admin", scope=Scope.ADMIN)


@dataclass(frozen=True, slots=True)
class Rule:
    """What a route needs. ``capability`` None: full admins only. ``in_app``: the route's path
    names an application (``{app_id}``), and a principal of one application reaches only its
    own. ``shared``: an application principal may use this route without an application in its
    path (reading event types). ``owned``: the route checks the owner of what it reads itself
    (a background task's application)."""

    capability: Capability | None
    in_app: bool = False
    shared: bool = False
    owned: bool = False


ADMIN_ONLY = Rule(None)


def app_rule(capability: Capability) -> Rule:
    """A route under ``/api/v1/app/{app_id}`` needing ``capability``."""
    return Rule(capability, in_app=True)


def read_rule(capability: Capability = Capability.VIEW_BASE, *, shared: bool = False) -> Rule:
    """A route outside any application: read-only keys read it with ``VIEW_BASE``; application
    principals only when ``shared``."""
    return Rule(capability, shared=shared)


def allows(principal: Principal, rule: Rule, method: str) -> bool:
    """Whether ``principal`` may use a route with ``rule`` by ``method``, its application (when
    the route names one) being its own."""
    if principal.full_admin:
        return True
    if rule.capability is None:
        return False
    if principal.scope is Scope.READ_ONLY:
        return method in READ_METHODS and rule.capability in READ_ONLY_CAPABILITIES
    if not (rule.in_app or rule.shared or rule.owned):
        return False
    if (rule.shared or rule.owned) and method not in READ_METHODS:
        return False
    return rule.capability in principal.capabilities


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored API key (its token is kept only as a digest, shown once at creation)."""

    id: str
    name: str
    scope: Scope
    app_id: str | None  # scope APPLICATION only
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None

    def principal(self) -> Principal:
        read_only = self.scope is Scope.READ_ONLY
        return Principal(
            name=self.id,
            kind="api_key",
            scope=self.scope,
            app_id=self.app_id,
            capabilities=READ_ONLY_CAPABILITIES if read_only else ALL_CAPABILITIES,
            expires_at=self.expires_at,
        )


@dataclass(frozen=True, slots=True)
class PortalToken:
    """A stored app portal token (Svix's app portal access): one application, some
    capabilities, until ``expires_at`` (``expire-all`` and ``logout`` bring it forward)."""

    id: str
    app_id: str
    capabilities: frozenset[Capability]  # as granted (see ``effective``)
    feature_flags: frozenset[str]
    session_id: str | None
    created_at: datetime
    expires_at: datetime

    def principal(self) -> Principal:
        return Principal(
            name=self.id,
            kind="portal",
            scope=Scope.APPLICATION,
            app_id=self.app_id,
            capabilities=effective(self.capabilities),
            expires_at=self.expires_at,
            session_id=self.session_id,
            feature_flags=self.feature_flags,
        )
