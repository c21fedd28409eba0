"""core.alerts.rules: when a rule fires, and what its issues become over time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from hookd.core.alerts.rules import (
    AlertRule,
    Issue,
    IssueStatus,
    Kind,
    Observation,
    Scope,
    check_rule,
    decide,
    firing,
    link,
    summary,
)

NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)


def rule(**changes: object) -> AlertRule:
    base = AlertRule(
        id="alrt_1",
        name="failing",
        description="",
        enabled=True,
        kind=Kind.FAILURE_RATE,
        scope=Scope.GLOBAL,
        scope_id=None,
        threshold=50.0,
        window_seconds=300,
        min_volume=10,
        escalate_threshold=None,
        escalate_after_seconds=None,
        quiet_period_seconds=60,
        channels=(),
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def issue(**changes: object) -> Issue:
    base = Issue(
        id="iss_1",
        rule_id="alrt_1",
        rule_name="failing",
        subject="ep_1",
        app_id="app_1",
        kind=Kind.FAILURE_RATE,
        scope=Scope.GLOBAL,
        status=IssueStatus.OPEN,
        value=60.0,
        peak_value=60.0,
        threshold=50.0,
        summary="",
        opened_at=NOW - timedelta(minutes=1),
        acknowledged_at=None,
        escalated_at=None,
        cleared_at=None,
        resolved_at=None,
        updated_at=NOW,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def seen(value: float, volume: int | None = 20) -> Observation:
    return Observation("ep_1", "app_1", value, volume)


def test_a_rate_fires_at_the_threshold_with_enough_volume() -> None:
    assert firing(rule(), seen(50.0))
    assert not firing(rule(), seen(49.9))
    assert not firing(rule(), seen(100.0, volume=9))  # below the minimum volume
    assert not firing(rule(), None)


def test_a_firing_subject_opens_an_issue_then_updates_it_when_its_value_moves() -> None:
    opened = decide(rule(), None, seen(60.0), NOW)
    assert opened is not None and opened.action == "open" and opened.events == ("opened",)
    assert decide(rule(), issue(), seen(60.0), NOW) is None  # nothing new: nothing written
    moved = decide(rule(), issue(), seen(70.0), NOW)
    assert moved is not None and moved.action == "update" and moved.events == ()


def test_an_issue_resolves_after_staying_clear_for_the_quiet_period() -> None:
    cleared = decide(rule(), issue(), seen(10.0), NOW)
    assert cleared is not None and cleared.action == "clear"
    quiet = issue(cleared_at=NOW - timedelta(seconds=59))
    assert decide(rule(), quiet, None, NOW) is None
    done = decide(rule(), issue(cleared_at=NOW - timedelta(seconds=60)), None, NOW)
    assert done is not None and done.action == "resolve" and done.events == ("resolved",)


def test_firing_again_during_the_quiet_period_keeps_the_issue() -> None:
    back = decide(rule(), issue(cleared_at=NOW - timedelta(seconds=30)), seen(60.0), NOW)
    assert back is not None and back.action == "update"


def test_escalation_past_a_second_threshold_happens_once() -> None:
    worse = rule(escalate_threshold=80.0)
    up = decide(worse, issue(), seen(85.0), NOW)
    assert up is not None and up.escalate and up.events == ("escalated",)
    assert decide(worse, issue(escalated_at=NOW, value=85.0), seen(85.0), NOW) is None
    at_once = decide(worse, None, seen(90.0), NOW)
    assert at_once is not None and at_once.events == ("opened", "escalated")


def test_an_unacknowledged_issue_escalates_after_lasting() -> None:
    lasting = rule(escalate_after_seconds=600)
    old = issue(opened_at=NOW - timedelta(minutes=10), value=61.0)
    up = decide(lasting, old, seen(60.0), NOW)
    assert up is not None and up.escalate
    acknowledged = replace(old, status=IssueStatus.ACKNOWLEDGED)
    kept = decide(lasting, acknowledged, seen(60.0), NOW)
    assert kept is not None and not kept.escalate
    young = decide(lasting, issue(value=61.0), seen(60.0), NOW)
    assert young is not None and not young.escalate


def test_summaries_say_what_fired() -> None:
    assert summary(rule(), seen(62.4, 120)) == "Failure rate 62% ≥ 50% over 5 min (120 attempts)"
    due = rule(kind=Kind.OLDEST_DUE_AGE, threshold=300.0, window_seconds=None, min_volume=None)
    assert summary(due, seen(720.0, None)) == "Oldest due delivery waiting 12 min ≥ 5 min"
    dupes = rule(kind=Kind.DUPLICATES, threshold=5.0, window_seconds=600, min_volume=None)
    assert summary(dupes, seen(7.0, None)) == "7 duplicate requests ≥ 5 over 10 min"


def test_links_point_at_the_failing_messages() -> None:
    assert (
        link(Kind.FAILURE_RATE, "ep_1", "app_1")
        == "/api/v1/app/app_1/attempt/endpoint/ep_1?status=2"
    )
    assert (
        link(Kind.OLDEST_DUE_AGE, "ep_1", "app_1", "https://hooks.example.com/")
        == "https://hooks.example.com/api/v1/app/app_1/endpoint/ep_1/msg?status=1"
    )
    assert (
        link(Kind.DUPLICATES, "src_1", None)
        == "/ingest/api/v1/source/src_1/request?outcome=duplicate"
    )


@pytest.mark.parametrize(
    ("kind", "scope", "scope_id", "threshold", "window", "escalate", "field"),
    [
        (Kind.DUPLICATES, Scope.ENDPOINT, "ep_1", 1.0, None, None, "scope"),
        (Kind.FAILURE_RATE, Scope.GLOBAL, "app_1", 50.0, None, None, "scopeId"),
        (Kind.FAILURE_RATE, Scope.APPLICATION, None, 50.0, None, None, "scopeId"),
        (Kind.FAILURE_RATE, Scope.GLOBAL, None, 150.0, None, None, "threshold"),
        (Kind.OLDEST_DUE_AGE, Scope.GLOBAL, None, 60.0, 300, None, "windowSeconds"),
        (Kind.FAILURE_RATE, Scope.GLOBAL, None, 50.0, 300, 40.0, "escalateThreshold"),
        (Kind.FAILURE_RATE, Scope.GLOBAL, None, 50.0, 300, 101.0, "escalateThreshold"),
    ],
)
def test_settings_that_do_not_fit_are_named(
    kind: Kind,
    scope: Scope,
    scope_id: str | None,
    threshold: float,
    window: int | None,
    escalate: float | None,
    field: str,
) -> None:
    broken = check_rule(kind, scope, scope_id, threshold, window, escalate)
    assert broken is not None and broken[0] == field


def test_sensible_settings_hold() -> None:
    assert check_rule(Kind.FAILURE_RATE, Scope.ENDPOINT, "ep_1", 50.0, 300, 90.0) is None
    assert check_rule(Kind.DUPLICATES, Scope.SOURCE, "src_1", 3.0, 600, None) is None
