"""Endpoint health: a circuit breaker over consecutive failures, and when to disable for good.

Pure: the worker hands in each attempt's outcome and ``now``; these functions say whether the
endpoint's deliveries may go (all, one probe, or none until a time) and when to disable it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

DEFAULT_THRESHOLD = 5
DEFAULT_COOLDOWN = timedelta(seconds=30)
DEFAULT_DISABLE_AFTER = timedelta(days=5)


class HealthState(enum.StrEnum):
    """What ``GET .../endpoint/{id}/health`` reports."""

    HEALTHY = "healthy"
    BACKING_OFF = "backing_off"  # failing, retries on their schedule, circuit still closed
    CIRCUIT_OPEN = "circuit_open"  # paused; one probe goes at ``open_until``
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    threshold: int = DEFAULT_THRESHOLD  # consecutive failures that open the circuit
    cooldown: timedelta = DEFAULT_COOLDOWN  # open circuit: wait this long before one probe
    disable_after: timedelta = DEFAULT_DISABLE_AFTER  # failing continuously this long: disable


@dataclass(frozen=True, slots=True)
class Health:
    """An endpoint's failure record; the default value is a healthy endpoint."""

    failures: int = 0  # consecutive failed attempts
    first_failure_at: datetime | None = None  # start of the current failing streak
    open_until: datetime | None = None  # set while the circuit is open

    def state(self, *, disabled: bool) -> HealthState:
        if disabled:
            return HealthState.DISABLED
        if self.open_until is not None:
            return HealthState.CIRCUIT_OPEN
        return HealthState.BACKING_OFF if self.failures else HealthState.HEALTHY


@dataclass(frozen=True, slots=True)
class Admission:
    """How many deliveries an endpoint may have in flight now; if none, when to look again."""

    max_in_flight: int
    retry_at: datetime | None = None

    @property
    def probing(self) -> bool:
        return self.retry_at is None and self.max_in_flight == 1


def admit(health: Health, limit: int, now: datetime) -> Admission:
    """Closed circuit: up to ``limit``; open: nothing until ``open_until``, then one probe."""
    if health.open_until is None:
        return Admission(limit)
    if now < health.open_until:
        return Admission(0, health.open_until)
    return Admission(min(1, limit))


@dataclass(frozen=True, slots=True)
class Verdict:
    health: Health
    disable: bool = False


def after_attempt(health: Health, succeeded: bool, now: datetime, policy: BreakerPolicy) -> Verdict:
    """The endpoint's health after one attempt; ``disable`` when it failed for too long."""
    if succeeded:
        return Verdict(Health())
    failures = health.failures + 1
    first = health.first_failure_at or now
    open_until = now + policy.cooldown if failures >= policy.threshold else None
    updated = replace(health, failures=failures, first_failure_at=first, open_until=open_until)
    return Verdict(updated, disable=now - first >= policy.disable_after)


def run_outcomes(
    before: Mapping[str, Health],
    outcomes: Iterable[tuple[str, bool]],
    now: datetime,
    policy: BreakerPolicy,
) -> tuple[dict[str, Health], set[str]]:
    """Feed (endpoint id, succeeded) pairs in order; return the changed health, ids to disable."""
    after = dict(before)
    disable: set[str] = set()
    for endpoint_id, succeeded in outcomes:
        verdict = after_attempt(after.get(endpoint_id, Health()), succeeded, now, policy)
        after[endpoint_id] = verdict.health
        if verdict.disable:
            disable.add(endpoint_id)
    changed = {eid: h for eid, h in after.items() if before.get(eid, Health()) != h}
    return changed, disable
