"""Which attempt outcomes become operational events, and their Svix shapes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookd.core.domain import DeliveryStatus
from hookd.core.operational import (
    ATTEMPT_EXHAUSTED,
    ATTEMPT_FAILING,
    ATTEMPT_RECOVERED,
    AttemptOutcome,
    EndpointRef,
    attempt_event_type,
    attempt_events,
    disabled_event,
)

S, F, P, C = (
    DeliveryStatus.SUCCESS,
    DeliveryStatus.FAIL,
    DeliveryStatus.PENDING,
    DeliveryStatus.CANCELED,
)
NOW = datetime(2026, 11, 23, 12, 0, 0, 123000, tzinfo=UTC)


def outcome(
    number: int, attempt: DeliveryStatus, after: DeliveryStatus, manual: bool = False
) -> AttemptOutcome:
    return AttemptOutcome(
        "app_1", "msg_1", "ep_1", "atmpt_1", number, attempt, after, 500, NOW, manual
    )


@pytest.mark.parametrize(
    ("number", "attempt", "after", "expected"),
    [
        (1, F, P, None),
        (3, F, P, None),
        (4, F, P, ATTEMPT_FAILING),
        (5, F, P, None),
        (4, F, F, ATTEMPT_EXHAUSTED),  # the last attempt is the fourth: exhausted says it all
        (8, F, F, ATTEMPT_EXHAUSTED),
        (1, S, S, None),
        (4, S, S, None),  # succeeded on the fourth: "failing" was never sent
        (5, S, S, ATTEMPT_RECOVERED),
        (6, C, DeliveryStatus.CANCELED, None),
    ],
)
def test_attempt_event_type(
    number: int, attempt: DeliveryStatus, after: DeliveryStatus, expected: str | None
) -> None:
    assert attempt_event_type(outcome(number, attempt, after)) == expected


@given(st.integers(1, 50), st.sampled_from([S, F, C]), st.sampled_from([S, F, P, C]))
def test_manual_attempts_never_report(
    number: int, attempt: DeliveryStatus, after: DeliveryStatus
) -> None:
    assert attempt_event_type(outcome(number, attempt, after, manual=True)) is None


def test_event_shapes_are_svixs() -> None:
    [event] = attempt_events([outcome(8, F, F)], {"app_1": "shop"}, {"msg_1": "evt-9"})
    assert event.body() == {
        "type": "message.attempt.exhausted",
        "data": {
            "appId": "app_1",
            "appUid": "shop",
            "msgId": "msg_1",
            "msgEventId": "evt-9",
            "endpointId": "ep_1",
            "lastAttempt": {
                "id": "atmpt_1",
                "timestamp": "2026-11-23T12:00:00.123Z",
                "responseStatusCode": 500,
            },
        },
    }
    disabled = disabled_event(
        EndpointRef("app_1", None, "ep_1", "hooks"), trigger="automatic", fail_since=NOW
    )
    assert disabled.body()["data"] == {
        "appId": "app_1",
        "appUid": None,
        "endpointId": "ep_1",
        "endpointUid": "hooks",
        "trigger": "automatic",
        "failSince": "2026-11-23T12:00:00.123Z",
    }
