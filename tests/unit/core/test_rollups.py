"""core.rollups: what an attempt or an inbound request adds to its minute's counters."""

from __future__ import annotations

from hookd.core.domain import DeliveryStatus
from hookd.core.rollups import (
    ATTEMPT_COUNTERS,
    MINUTE_MS,
    AttemptFact,
    attempt_rows,
    bucket_starts,
    minute_of,
    request_rows,
)

T0 = 1_700_000_040_000  # a minute's start


def fact(
    status: DeliveryStatus, code: int = 0, *, at: int = T0, number: int = 1, **kw: object
) -> AttemptFact:
    return AttemptFact(
        endpoint_id=str(kw.get("endpoint", "ep_a")),
        app_id="app_a",
        at_ms=at,
        status=int(status),
        response_status_code=code,
        attempt_number=number,
        transform_failed=bool(kw.get("transform", False)),
    )


def test_minutes_start_at_whole_minutes() -> None:
    assert minute_of(T0) == T0
    assert minute_of(T0 + MINUTE_MS - 1) == T0
    assert minute_of(T0 + MINUTE_MS) == T0 + MINUTE_MS


def test_attempts_are_counted_by_outcome_and_cause() -> None:
    [row] = attempt_rows(
        [
            fact(DeliveryStatus.SUCCESS, 200),
            fact(DeliveryStatus.FAIL, 500, number=2),
            fact(DeliveryStatus.FAIL, 404, number=2),
            fact(DeliveryStatus.FAIL, 0, at=T0 + 59_999),
            fact(DeliveryStatus.FAIL, 302),
            fact(DeliveryStatus.FAIL, 0, transform=True),
            fact(DeliveryStatus.CANCELED, 0),
        ]
    )
    assert row["endpoint_id"] == "ep_a" and row["minute"] == T0 and row["app_id"] == "app_a"
    counts = {name: row[name] for name in ATTEMPT_COUNTERS}
    assert counts == {
        "success": 1,
        "fail": 5,
        "canceled": 1,
        "fail_4xx": 1,
        "fail_5xx": 1,
        "fail_no_response": 2,
        "transform_failures": 1,
        "destinations": 5,  # first attempts
    }


def test_one_row_per_endpoint_and_minute_in_key_order() -> None:
    rows = attempt_rows(
        [
            fact(DeliveryStatus.SUCCESS, 200, endpoint="ep_b"),
            fact(DeliveryStatus.SUCCESS, 200, at=T0 + MINUTE_MS),
            fact(DeliveryStatus.SUCCESS, 200),
        ]
    )
    assert [(r["endpoint_id"], r["minute"], r["success"]) for r in rows] == [
        ("ep_a", T0, 1),
        ("ep_a", T0 + MINUTE_MS, 1),
        ("ep_b", T0, 1),
    ]


def test_requests_are_counted_by_outcome() -> None:
    rows = request_rows(
        [
            ("src_a", T0, "accepted"),
            ("src_a", T0 + 1, "duplicate"),
            ("src_a", T0 + 2, "duplicate"),
            ("src_a", T0 + MINUTE_MS, "rejected"),
            ("src_a", T0, "rate_limited"),  # not stored, not counted
        ]
    )
    assert rows == [
        {
            "source_id": "src_a",
            "minute": T0,
            "accepted": 1,
            "duplicate": 2,
            "rejected": 0,
            "handshake": 0,
        },
        {
            "source_id": "src_a",
            "minute": T0 + MINUTE_MS,
            "accepted": 0,
            "duplicate": 0,
            "rejected": 1,
            "handshake": 0,
        },
    ]


def test_buckets_cover_the_range_from_the_interval_holding_its_start() -> None:
    hour = 60 * MINUTE_MS
    start = 1_700_000_000_000 - 1_700_000_000_000 % hour
    assert bucket_starts(start + 5, start + 2 * hour, hour) == [start, start + hour]
    assert bucket_starts(start, start + 2 * hour + 1, hour) == [
        start,
        start + hour,
        start + 2 * hour,
    ]
