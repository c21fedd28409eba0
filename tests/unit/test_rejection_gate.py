"""The per-process gate of rejected requests: a token bucket per source and address, and the
record repeated rejections are counted on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hookd.services.ingest.rejections import MAX_TRACKED, RejectionGate

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
MINUTE = timedelta(seconds=60)


def test_a_burst_of_one_seconds_worth_then_retry_after() -> None:
    gate = RejectionGate()
    assert [gate.retry_after("src", "192.0.2.1", 3, NOW) for _ in range(3)] == [None] * 3
    assert gate.retry_after("src", "192.0.2.1", 3, NOW) == 1
    assert gate.retry_after("src", "192.0.2.2", 3, NOW) is None  # per address
    assert gate.retry_after("other", "192.0.2.1", 3, NOW) is None  # per source
    assert gate.retry_after("src", "192.0.2.1", 3, NOW + timedelta(seconds=0.4)) is None
    slow = RejectionGate()
    assert slow.retry_after("src", "a", 0.01, NOW) is None
    assert slow.retry_after("src", "a", 0.01, NOW) == 100
    assert all(slow.retry_after("src", "a", 0, NOW) is None for _ in range(5))  # 0: no limit


def test_repeats_within_the_window_are_counted_on_the_first_record() -> None:
    gate = RejectionGate()
    assert gate.coalesce_into("src", "a", "missing_header", "req_1", MINUTE, NOW) is None
    later = NOW + timedelta(seconds=59)
    assert gate.coalesce_into("src", "a", "missing_header", "req_2", MINUTE, later) == "req_1"
    assert gate.coalesce_into("src", "a", "signature_mismatch", "req_3", MINUTE, later) is None
    assert gate.coalesce_into("src", "b", "missing_header", "req_4", MINUTE, later) is None
    after = NOW + MINUTE
    assert gate.coalesce_into("src", "a", "missing_header", "req_5", MINUTE, after) is None
    assert gate.coalesce_into("src", "a", "missing_header", "req_6", MINUTE, after) == "req_5"
    # A request that started before the record's (its body was read later) counts on it too.
    earlier = after - timedelta(seconds=1)
    assert gate.coalesce_into("src", "a", "missing_header", "req_8", MINUTE, earlier) == "req_5"
    off = timedelta(0)
    assert gate.coalesce_into("src", "a", "missing_header", "req_7", off, after) is None


def test_the_tracked_addresses_are_bounded() -> None:
    gate = RejectionGate()
    for n in range(MAX_TRACKED * 2):
        gate.retry_after("src", f"addr-{n}", 1, NOW)
        gate.coalesce_into("src", f"addr-{n}", "code", f"req_{n}", MINUTE, NOW)
    assert len(gate.buckets) <= MAX_TRACKED and len(gate.recent) <= MAX_TRACKED
