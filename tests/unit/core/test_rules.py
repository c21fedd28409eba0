"""Fan-out, endpoint URLs, ids and delivery decisions."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hookd import ids
from hookd.core.delivery import AttemptResult, Failure, next_step
from hookd.core.domain import DeliveryStatus, Endpoint
from hookd.core.fanout import endpoint_accepts
from hookd.core.retry import RetrySchedule
from hookd.core.urls import url_problem

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def endpoint(**overrides: object) -> Endpoint:
    fields: dict[str, object] = {
        "id": "ep_1",
        "app_id": "app_1",
        "uid": None,
        "url": "https://x",
        "description": "",
        "version": 1,
        "disabled": False,
        "filter_types": None,
        "channels": None,
        "rate_limit": None,
        "metadata": {},
        "headers": {},
        "secret": "whsec_x",
        "old_secrets": (),
        "created_at": NOW,
        "updated_at": NOW,
    }
    fields.update(overrides)
    return Endpoint(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "event_type", "channels", "accepted"),
    [
        ({}, "a", None, True),
        ({"disabled": True}, "a", None, False),
        ({"filter_types": ("a", "b")}, "a", None, True),
        ({"filter_types": ("b",)}, "a", None, False),
        ({"channels": ("eu",)}, "a", ["eu", "us"], True),
        ({"channels": ("eu",)}, "a", ["us"], False),
        ({"channels": ("eu",)}, "a", None, False),
        ({}, "a", ["eu"], True),
    ],
)
def test_fan_out_rule(
    overrides: dict[str, object], event_type: str, channels: list[str] | None, accepted: bool
) -> None:
    assert endpoint_accepts(endpoint(**overrides), event_type, channels) is accepted


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.com/hook", True),
        ("http://127.0.0.1:8080/x?y=1", True),
        ("http://[::1]:80/", True),
        ("ftp://example.com", False),
        ("example.com", False),
        ("http://", False),
        ("http://exa mple.com", False),
        ("http://example.com:99999", False),
        ("https://example.com:0/", False),
        ("https://" + "a" * 70_000, False),
    ],
)
def test_url_rules(url: str, ok: bool) -> None:
    assert (url_problem(url) is None) is ok


@example(datetime(2038, 2, 1, 0, 0, 0, 100000), 1)  # floats once merged these two milliseconds
@given(
    st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(1, 10**6),
)
def test_ids_sort_by_time(moment: datetime, millis: int) -> None:
    moment = moment.replace(tzinfo=UTC)
    earlier = ids.new_id(ids.MESSAGE, moment)
    later = ids.new_id(ids.MESSAGE, moment + timedelta(milliseconds=millis))
    assert earlier < later
    assert (
        ids.floor_id(ids.MESSAGE, moment)
        <= earlier
        < ids.floor_id(ids.MESSAGE, moment + timedelta(milliseconds=1))
    )
    assert abs((ids.id_time(earlier) - moment).total_seconds()) < 0.001


def test_no_moment_is_an_open_end() -> None:
    assert ids.floor_id(ids.MESSAGE, None) is None


SCHEDULE = RetrySchedule(delays=(5, 60))


@pytest.mark.parametrize(
    ("status", "attempts", "expected", "disable"),
    [
        (200, 1, DeliveryStatus.SUCCESS, False),
        (204, 3, DeliveryStatus.SUCCESS, False),
        (301, 1, DeliveryStatus.PENDING, False),
        (500, 1, DeliveryStatus.PENDING, False),
        (500, 2, DeliveryStatus.PENDING, False),
        (500, 3, DeliveryStatus.FAIL, False),
        (410, 1, DeliveryStatus.FAIL, True),
    ],
)
def test_next_step(status: int, attempts: int, expected: DeliveryStatus, disable: bool) -> None:
    step = next_step(AttemptResult(status, b"", 3), attempts, SCHEDULE, NOW, random.Random(0))
    assert step.status == expected and step.disable_endpoint is disable
    assert (step.next_attempt_at is not None) is (expected == DeliveryStatus.PENDING)


def test_network_errors_are_retried_and_excerpts_hold_the_reason() -> None:
    result = AttemptResult.no_response("connection failed: refused", 10, failure=Failure.CONNECTION)
    step = next_step(result, 1, SCHEDULE, NOW, random.Random(0))
    assert step.status == DeliveryStatus.PENDING
    assert result.excerpt() == "connection failed: refused"
    assert AttemptResult(200, b"y" * 30_000, 1).excerpt() == "y" * 20_000
