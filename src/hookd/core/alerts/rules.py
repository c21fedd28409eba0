"""Alert rules and the lifecycle of their issues. Pure: the evaluator hands in what it observed
and the clock; these functions say what each rule's issues become.

A rule watches one **kind** of condition over a **scope** (every endpoint or source, one
application's, one endpoint, one source's). It is evaluated per **subject**: an endpoint (every
kind but ``duplicates``) or a source (``duplicates``). A subject whose value reaches the
threshold fires; a firing subject without an unresolved issue opens one. An issue goes
``open`` -> ``acknowledged`` (by a person) -> ``resolved``: by itself once the condition has
stayed clear for the rule's quiet period, or by a person. A resolved issue stays resolved; the
subject firing again opens a new one. An issue is **escalated** (once) when its value reaches
the rule's ``escalate_threshold``, or when it is still ``open`` (not acknowledged) and firing
``escalate_after_seconds`` after it opened.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal


class Kind(enum.StrEnum):
    FAILURE_RATE = "failure_rate"  # failed attempts / attempts over a window, in percent
    OLDEST_DUE_AGE = "oldest_due_age"  # seconds the oldest due delivery has waited
    DUPLICATES = "duplicates"  # duplicate inbound requests over a window
    ENDPOINT_DISABLED = "endpoint_disabled"  # the endpoint is disabled
    BREAKER_OPEN = "breaker_open"  # seconds an open circuit's failing streak has lasted
    TRANSFORMATION_FAILURES = "transformation_failures"  # failed transformations over a window


class Scope(enum.StrEnum):
    GLOBAL = "global"
    APPLICATION = "application"
    ENDPOINT = "endpoint"
    SOURCE = "source"  # its forwarding endpoints, or (duplicates) the source itself


class IssueStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


Unit = Literal["percent", "seconds", "count", "flag"]


@dataclass(frozen=True, slots=True)
class KindSpec:
    """A kind's unit, defaults and the scopes it may watch."""

    unit: Unit
    threshold: float
    window_seconds: int | None = None  # None: not measured over a window
    min_volume: int | None = None  # failure_rate only: fewer attempts never fire
    subjects: Literal["endpoints", "sources"] = "endpoints"
    max_threshold: float | None = None

    @property
    def scopes(self) -> frozenset[Scope]:
        if self.subjects == "sources":
            return frozenset({Scope.GLOBAL, Scope.SOURCE})
        return frozenset(Scope)


KINDS: Mapping[Kind, KindSpec] = {
    Kind.FAILURE_RATE: KindSpec(
        "percent", 50.0, window_seconds=300, min_volume=10, max_threshold=100.0
    ),
    Kind.OLDEST_DUE_AGE: KindSpec("seconds", 300.0),
    Kind.DUPLICATES: KindSpec("count", 10.0, window_seconds=3600, subjects="sources"),
    Kind.ENDPOINT_DISABLED: KindSpec("flag", 1.0, max_threshold=1.0),
    Kind.BREAKER_OPEN: KindSpec("seconds", 300.0),
    Kind.TRANSFORMATION_FAILURES: KindSpec("count", 1.0, window_seconds=300),
}
DEFAULT_QUIET_PERIOD_SECONDS = 300
MIN_WINDOW_SECONDS = 60
MAX_WINDOW_SECONDS = 7 * 24 * 3600
MAX_SECONDS = 30 * 24 * 3600  # escalate_after, quiet period


@dataclass(frozen=True, slots=True)
class AlertRule:
    id: str
    name: str
    description: str
    enabled: bool
    kind: Kind
    scope: Scope
    scope_id: str | None  # the application, endpoint or source watched (None: global)
    threshold: float
    window_seconds: int | None
    min_volume: int | None
    escalate_threshold: float | None
    escalate_after_seconds: int | None
    quiet_period_seconds: int
    channels: tuple[str, ...]
    created_at: datetime
    updated_at: datetime

    @property
    def window_minutes(self) -> int:
        """The window in whole minutes (the counters' resolution), at least one."""
        return max(1, math.ceil((self.window_seconds or 0) / 60))


@dataclass(frozen=True, slots=True)
class Issue:
    id: str
    rule_id: str
    rule_name: str
    subject: str  # the endpoint or source id
    app_id: str | None  # the subject's application (endpoints), for the link
    kind: Kind
    scope: Scope
    status: IssueStatus
    value: float  # the last value observed while firing
    peak_value: float
    threshold: float  # the rule's threshold when the value was last observed
    summary: str
    opened_at: datetime
    acknowledged_at: datetime | None
    escalated_at: datetime | None
    cleared_at: datetime | None  # the condition was seen clear since (quiet period)
    resolved_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Observation:
    """A subject's current value for a rule's kind."""

    subject: str
    app_id: str | None
    value: float
    volume: int | None = None  # failure_rate: the attempts the rate is over


def firing(rule: AlertRule, observation: Observation | None) -> bool:
    if observation is None:
        return False
    if rule.min_volume is not None and (observation.volume or 0) < rule.min_volume:
        return False
    return observation.value >= rule.threshold


def duration(seconds: float) -> str:
    """A short human duration: 45 s, 90 s, 1 min, 5 min, 3 h, 2 d."""
    if seconds < 60 or (seconds < 120 and round(seconds) % 60):
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"


def summary(rule: AlertRule, observation: Observation) -> str:
    """One human line: what fired, its value against the threshold."""
    value, threshold = observation.value, rule.threshold
    window = duration(rule.window_minutes * 60)
    match rule.kind:
        case Kind.FAILURE_RATE:
            return (
                f"Failure rate {value:.0f}% ≥ {threshold:g}% over {window} "
                f"({observation.volume or 0} attempts)"
            )
        case Kind.OLDEST_DUE_AGE:
            return f"Oldest due delivery waiting {duration(value)} ≥ {duration(threshold)}"
        case Kind.DUPLICATES:
            return f"{value:.0f} duplicate requests ≥ {threshold:g} over {window}"
        case Kind.ENDPOINT_DISABLED:
            return "Endpoint disabled"
        case Kind.BREAKER_OPEN:
            return f"Circuit open, failing for {duration(value)} ≥ {duration(threshold)}"
        case Kind.TRANSFORMATION_FAILURES:
            return f"{value:.0f} transformation failures ≥ {threshold:g} over {window}"


def link(kind: Kind, subject: str, app_id: str | None, base_url: str = "") -> str | None:
    """Where the failing messages are: the API list to look at first."""
    if kind == Kind.DUPLICATES:
        path = f"/ingest/api/v1/source/{subject}/request?outcome=duplicate"
    elif app_id is None:
        return None
    elif kind == Kind.OLDEST_DUE_AGE:
        path = f"/api/v1/app/{app_id}/endpoint/{subject}/msg?status=1"  # pending
    else:
        path = f"/api/v1/app/{app_id}/attempt/endpoint/{subject}?status=2"  # failed
    return base_url.rstrip("/") + path


Action = Literal["open", "update", "clear", "resolve"]


@dataclass(frozen=True, slots=True)
class Change:
    """What one evaluation does to one (rule, subject) pair's issue."""

    action: Action
    rule: AlertRule
    subject: str
    app_id: str | None
    issue: Issue | None = None  # the unresolved issue changed (None: one is opened)
    observation: Observation | None = None
    escalate: bool = False  # the issue becomes escalated now

    @property
    def events(self) -> tuple[str, ...]:
        """The notices this change sends: opened, escalated, resolved."""
        events: list[str] = []
        if self.action == "open":
            events.append("opened")
        if self.escalate:
            events.append("escalated")
        if self.action == "resolve":
            events.append("resolved")
        return tuple(events)


def _escalates(
    rule: AlertRule, issue: Issue | None, observation: Observation, now: datetime
) -> bool:
    if issue is not None and issue.escalated_at is not None:
        return False
    if rule.escalate_threshold is not None and observation.value >= rule.escalate_threshold:
        return True
    if rule.escalate_after_seconds is None or issue is None:
        return False
    waited = now - issue.opened_at >= timedelta(seconds=rule.escalate_after_seconds)
    return issue.status == IssueStatus.OPEN and waited


def decide(
    rule: AlertRule, issue: Issue | None, observation: Observation | None, now: datetime
) -> Change | None:
    """What happens to ``rule``'s issue for one subject (``issue``: its unresolved one, if
    any), given what was observed now (``None``: nothing, e.g. no traffic or gone)."""
    if firing(rule, observation):
        assert observation is not None
        escalate = _escalates(rule, issue, observation, now)
        if issue is None:
            return Change(
                "open", rule, observation.subject, observation.app_id, None, observation, escalate
            )
        changed = (
            escalate
            or issue.cleared_at is not None
            or issue.value != observation.value
            or issue.threshold != rule.threshold
        )
        if not changed:
            return None
        return Change(
            "update", rule, issue.subject, issue.app_id, issue, observation, escalate=escalate
        )
    if issue is None:
        return None
    if issue.cleared_at is None:
        return Change("clear", rule, issue.subject, issue.app_id, issue)
    if now - issue.cleared_at >= timedelta(seconds=rule.quiet_period_seconds):
        return Change("resolve", rule, issue.subject, issue.app_id, issue)
    return None


def check_rule(
    kind: Kind,
    scope: Scope,
    scope_id: str | None,
    threshold: float,
    window_seconds: int | None,
    escalate_threshold: float | None,
) -> tuple[str, str] | None:
    """The first rule a rule's settings break, as (field, detail); None when they hold."""
    spec = KINDS[kind]
    if scope not in spec.scopes:
        allowed = ", ".join(sorted(spec.scopes))
        return "scope", f"a {kind} rule watches sources: scope must be one of {allowed}"
    if (scope == Scope.GLOBAL) != (scope_id is None):
        if scope == Scope.GLOBAL:
            return "scopeId", "a global rule has no scopeId"
        return "scopeId", f"a rule scoped to one {scope} names it in scopeId"
    if threshold <= 0 or (spec.max_threshold is not None and threshold > spec.max_threshold):
        top = f" and at most {spec.max_threshold:g}" if spec.max_threshold is not None else ""
        return "threshold", f"threshold must be above 0{top} ({spec.unit})"
    if window_seconds is not None and spec.window_seconds is None:
        return "windowSeconds", f"a {kind} rule is not measured over a window"
    if escalate_threshold is not None:
        if escalate_threshold <= threshold:
            return "escalateThreshold", "escalateThreshold must be above threshold"
        if spec.max_threshold is not None and escalate_threshold > spec.max_threshold:
            return "escalateThreshold", f"escalateThreshold must be at most {spec.max_threshold:g}"
    return None
