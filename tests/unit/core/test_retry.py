"""Retry schedules, jitter and Retry-After."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookd.core.retry import DEFAULT_DELAYS, RetrySchedule, parse_retry_after

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_default_schedule_is_svix_s() -> None:
    schedule = RetrySchedule()
    assert schedule.delays == (5, 300, 1800, 7200, 18000, 36000, 36000) == DEFAULT_DELAYS
    assert schedule.max_attempts == 8


@given(attempts=st.integers(1, 7), seed=st.integers())
def test_jitter_stays_within_twenty_percent(attempts: int, seed: int) -> None:
    schedule = RetrySchedule()
    delay = schedule.next_delay(attempts, random.Random(seed))
    base = schedule.delays[attempts - 1]
    assert delay is not None and base * 0.8 <= delay <= base * 1.2


@given(attempts=st.integers(8, 100))
def test_exhausted_after_the_last_delay(attempts: int) -> None:
    assert RetrySchedule().next_delay(attempts, random.Random(0)) is None
    assert RetrySchedule().next_delay(0, random.Random(0)) is None


@given(retry_after=st.floats(0, 10**7), attempts=st.integers(1, 7), seed=st.integers())
def test_retry_after_postpones_but_never_advances_and_is_capped(
    retry_after: float, attempts: int, seed: int
) -> None:
    schedule = RetrySchedule(jitter=0)
    base = schedule.delays[attempts - 1]
    delay = schedule.next_delay(attempts, random.Random(seed), retry_after)
    assert delay is not None
    assert delay >= base
    assert delay <= max(base, schedule.max_retry_after)
    if base < retry_after <= schedule.max_retry_after:
        assert delay == retry_after


def test_parse_schedule() -> None:
    assert RetrySchedule.parse("1, 2,3").delays == (1, 2, 3)
    assert RetrySchedule.parse("").delays == ()
    with pytest.raises(ValueError, match="could not convert"):
        RetrySchedule.parse("1,x")
    with pytest.raises(ValueError, match="zero or positive"):
        RetrySchedule.parse("-1")


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("120", NOW) == 120
    http_date = (NOW + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(http_date, NOW) == 90
    assert parse_retry_after("yesterday", NOW) is None
    assert parse_retry_after(None, NOW) is None
    assert parse_retry_after("Mon, 01 Jan 2001 00:00:00 GMT", NOW) == 0


@given(value=st.text(max_size=60))
def test_any_retry_after_text_parses_or_is_ignored(value: str) -> None:
    parsed = parse_retry_after(value, NOW)
    assert parsed is None or parsed >= 0
