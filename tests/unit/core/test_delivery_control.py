"""The ``webhook-delivery`` response header in the pure delivery decision."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from hookd.core.delivery import AttemptResult, next_step
from hookd.core.domain import DeliveryStatus
from hookd.core.retry import RetrySchedule

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SCHEDULE = RetrySchedule(delays=(5, 300))


@given(status=st.integers(200, 599), value=st.sampled_from(["disable", " Disable ", "DISABLE"]))
def test_disable_header_disables_whatever_the_status(status: int, value: str) -> None:
    step = next_step(
        AttemptResult(status, b"", 1, delivery_control=value), 1, SCHEDULE, NOW, random.Random(0)
    )
    assert step.disable_endpoint and step.next_attempt_at is None
    expected = DeliveryStatus.SUCCESS if 200 <= status < 300 else DeliveryStatus.FAIL
    assert step.status == expected


@given(status=st.integers(300, 599).filter(lambda s: s != 410))
def test_abort_message_fails_the_message_without_retry(status: int) -> None:
    result = AttemptResult(status, b"", 1, delivery_control="abort-message")
    step = next_step(result, 1, SCHEDULE, NOW, random.Random(0))
    assert step == next_step(result, 99, SCHEDULE, NOW, random.Random(0))
    assert step.status == DeliveryStatus.FAIL and not step.disable_endpoint


def test_abort_message_on_success_is_just_a_success() -> None:
    result = AttemptResult(204, b"", 1, delivery_control="abort-message")
    assert next_step(result, 1, SCHEDULE, NOW, random.Random(0)).status == DeliveryStatus.SUCCESS


def test_unknown_values_are_ignored() -> None:
    result = AttemptResult(500, b"", 1, delivery_control="please-stop")
    assert next_step(result, 1, SCHEDULE, NOW, random.Random(0)).status == DeliveryStatus.PENDING
