"""The circuit breaker as a pure state machine, driven with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hookd.core.breaker import (
    BreakerPolicy,
    Health,
    HealthState,
    admit,
    after_attempt,
    run_outcomes,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
POLICY = BreakerPolicy(threshold=3, cooldown=timedelta(seconds=30), disable_after=timedelta(days=5))


def run(outcomes: list[bool], step: timedelta = timedelta(seconds=1)) -> Health:
    health = Health()
    for i, ok in enumerate(outcomes):
        health = after_attempt(health, ok, NOW + i * step, POLICY).health
    return health


def test_circuit_opens_after_threshold_consecutive_failures() -> None:
    assert run([False, False]).state(disabled=False) is HealthState.BACKING_OFF
    opened = run([False, False, False])
    assert opened.state(disabled=False) is HealthState.CIRCUIT_OPEN
    assert opened.open_until == NOW + timedelta(seconds=2) + POLICY.cooldown


def test_open_circuit_pauses_then_admits_exactly_one_probe() -> None:
    opened = run([False, False, False])
    assert opened.open_until is not None
    paused = admit(opened, 16, opened.open_until - timedelta(milliseconds=1))
    assert paused.max_in_flight == 0 and paused.retry_at == opened.open_until
    probe = admit(opened, 16, opened.open_until)
    assert probe.max_in_flight == 1 and probe.probing


def test_probe_success_closes_and_failure_reopens() -> None:
    opened = run([False, False, False])
    assert opened.open_until is not None
    later = opened.open_until + timedelta(seconds=1)
    assert after_attempt(opened, True, later, POLICY).health == Health()
    reopened = after_attempt(opened, False, later, POLICY).health
    assert reopened.open_until == later + POLICY.cooldown
    assert reopened.failures == 4


def test_failing_continuously_for_disable_after_disables() -> None:
    first = after_attempt(Health(), False, NOW, POLICY)
    assert not first.disable
    almost = after_attempt(first.health, False, NOW + timedelta(days=5, seconds=-1), POLICY)
    assert not almost.disable
    assert after_attempt(almost.health, False, NOW + timedelta(days=5), POLICY).disable


def test_disabled_wins_over_every_other_state() -> None:
    assert run([False] * 5).state(disabled=True) is HealthState.DISABLED
    assert Health().state(disabled=True) is HealthState.DISABLED


@given(st.lists(st.booleans(), max_size=40))
def test_state_follows_the_trailing_failure_streak(outcomes: list[bool]) -> None:
    health = run(outcomes)
    streak = len(outcomes) - (
        max(i for i, ok in enumerate(outcomes) if ok) + 1 if any(outcomes) else 0
    )
    assert health.failures == streak
    assert (health.open_until is not None) == (streak >= POLICY.threshold)
    assert (health.first_failure_at is None) == (streak == 0)
    closed = admit(health, 8, NOW).max_in_flight if health.open_until is None else None
    assert closed in (8, None)


@given(st.lists(st.tuples(st.sampled_from(["ep_a", "ep_b", "ep_c"]), st.booleans()), max_size=30))
def test_a_batch_equals_the_attempts_one_by_one(outcomes: list[tuple[str, bool]]) -> None:
    changed, disable = run_outcomes({}, outcomes, NOW, POLICY)
    for endpoint_id in {"ep_a", "ep_b", "ep_c"}:
        mine = [ok for eid, ok in outcomes if eid == endpoint_id]
        health = Health()
        for ok in mine:
            health = after_attempt(health, ok, NOW, POLICY).health
        assert changed.get(endpoint_id, Health()) == health
    assert disable == set()  # all at one instant: never failing for five days
