"""Scheduling decisions: token buckets, fair budget splits and when to look again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hookd.core import ratelimit
from hookd.core.breaker import Health
from hookd.core.ratelimit import TokenBucket
from hookd.core.scheduling import EndpointGate, opening, ready_after, share_budget, spend

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@given(
    wants=st.lists(st.integers(0, 20), max_size=30),
    data=st.data(),
    budget=st.integers(0, 100),
    failing_budget=st.integers(0, 100),
)
def test_share_is_bounded_and_max_min_fair(
    wants: list[int], data: st.DataObject, budget: int, failing_budget: int
) -> None:
    failing = data.draw(st.lists(st.booleans(), min_size=len(wants), max_size=len(wants)))
    grants = share_budget(wants, failing, budget, failing_budget)
    assert sum(grants) <= budget
    assert all(0 <= g <= w for g, w in zip(grants, wants, strict=True))
    assert sum(g for g, f in zip(grants, failing, strict=True) if f) <= failing_budget
    if sum(grants) < budget:
        # Nobody who still wants more was refused unless the failing share ran out for them.
        failing_left = failing_budget - sum(g for g, f in zip(grants, failing, strict=True) if f)
        for g, w, f in zip(grants, wants, failing, strict=True):
            assert g == w or (f and failing_left == 0)
    # Max-min fair among healthy endpoints: a refused one never has 2+ fewer than another.
    healthy = [(g, w) for g, w, f in zip(grants, wants, failing, strict=True) if not f]
    for g, w in healthy:
        if g < w:
            assert all(other <= g + 1 for other, _ in healthy)


def test_a_fast_endpoint_keeps_slots_while_failing_ones_are_capped() -> None:
    # 1,000 failing endpoints that each want 8 and one healthy endpoint, last in line.
    wants = [8] * 1000 + [8]
    failing = [True] * 1000 + [False]
    grants = share_budget(wants, failing, budget=256, failing_budget=128)
    assert grants[-1] == 8
    assert sum(grants[:-1]) == 128


@given(
    rate=st.integers(1, 1000),
    steps=st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 50)), max_size=40),
)
def test_bucket_never_lets_more_than_rate_per_second_plus_one_burst(
    rate: int, steps: list[tuple[int, int]]
) -> None:
    bucket: TokenBucket | None = None
    now = NOW
    sent: list[datetime] = []
    for gap_ms, wanted in steps:
        now += timedelta(milliseconds=gap_ms)
        bucket = ratelimit.refill(bucket, rate, now)
        granted = min(wanted, ratelimit.available(bucket))
        bucket = ratelimit.take(bucket, granted)
        assert bucket.tokens >= -1e-9
        sent += [now] * granted
    elapsed = (now - NOW).total_seconds()
    assert len(sent) <= ratelimit.capacity(rate) + rate * elapsed + 1e-6


def test_empty_bucket_says_when_the_next_token_comes() -> None:
    bucket = ratelimit.take(ratelimit.refill(None, 2, NOW), 2)
    assert ratelimit.available(bucket) == 0
    assert ratelimit.next_token_at(bucket, 2) == NOW + timedelta(milliseconds=500)
    assert ratelimit.available(ratelimit.refill(bucket, 2, NOW + timedelta(seconds=0.5))) == 1


def test_rate_limited_endpoint_waits_for_its_next_token() -> None:
    empty = TokenBucket(0.0, NOW)
    gate = EndpointGate(limit=16, in_flight=0, health=Health(), rate=4, bucket=empty)
    op = opening(gate, NOW)
    assert op.wants == 0 and op.wait_until == NOW + timedelta(milliseconds=250)
    assert ready_after(gate, op, 0, short=False, next_due=None, now=NOW) == op.wait_until


def test_token_limited_claim_is_looked_at_again_when_the_bucket_refills() -> None:
    gate = EndpointGate(limit=16, in_flight=0, health=Health(), rate=2, bucket=None)
    op = opening(gate, NOW)
    assert op.wants == 2
    bucket = spend(op, 2)
    assert bucket is not None and ratelimit.available(bucket) == 0
    again = ready_after(gate, op, 2, short=False, next_due=None, now=NOW)
    assert again == NOW + timedelta(milliseconds=500)


def test_endpoint_at_its_in_flight_cap_is_parked_until_a_delivery_ends() -> None:
    gate = EndpointGate(limit=4, in_flight=3, health=Health())
    op = opening(gate, NOW)
    assert op.wants == 1
    assert ready_after(gate, op, 1, short=False, next_due=None, now=NOW) is None
    full = EndpointGate(limit=4, in_flight=4, health=Health())
    assert opening(full, NOW).wants == 0


def test_open_circuit_waits_and_half_open_sends_one_probe() -> None:
    health = Health(failures=5, first_failure_at=NOW, open_until=NOW + timedelta(seconds=30))
    gate = EndpointGate(limit=16, in_flight=0, health=health)
    op = opening(gate, NOW)
    assert op.wants == 0 and op.wait_until == health.open_until
    probe = opening(gate, NOW + timedelta(seconds=30))
    assert probe.wants == 1
    busy = EndpointGate(limit=16, in_flight=1, health=health)
    assert opening(busy, NOW + timedelta(seconds=31)).wants == 0


def test_short_round_resumes_at_the_next_due_delivery() -> None:
    gate = EndpointGate(limit=16, in_flight=0, health=Health())
    op = opening(gate, NOW)
    later = NOW + timedelta(seconds=5)
    assert ready_after(gate, op, 3, short=True, next_due=later, now=NOW) == later
    assert ready_after(gate, op, 0, short=True, next_due=None, now=NOW) is None
