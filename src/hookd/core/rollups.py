"""Counters rolled up as the facts happen: attempts per endpoint and minute, inbound requests
per source and minute. Pure: the store writes what these functions count, in the transaction
that records the facts, and statistics and alert rules read the sums instead of counting rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from hookd.core.domain import ACCEPTED, DUPLICATE, HANDSHAKE, REJECTED, DeliveryStatus

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

Interval = Literal["minute", "hour", "day"]
INTERVAL_MS: Mapping[str, int] = {"minute": MINUTE_MS, "hour": HOUR_MS, "day": DAY_MS}

# The counters of an (endpoint, minute) row. ``fail`` counts every failed attempt; the
# ``fail_*`` columns split it by what the endpoint answered (a 3xx is in ``fail`` only).
ATTEMPT_COUNTERS = (
    "success",
    "fail",
    "canceled",
    "fail_4xx",
    "fail_5xx",
    "fail_no_response",  # no HTTP answer: connection error, timeout, disabled, expunged
    "transform_failures",  # the endpoint's transformation threw, timed out or returned junk
    "destinations",  # first attempts: messages sent to the endpoint (Svix's destinations)
)
# The counters of a (source, minute) row: the outcomes of the requests it received.
REQUEST_COUNTERS = (ACCEPTED, DUPLICATE, REJECTED, HANDSHAKE)

SUCCESS, FAIL, CANCELED = (
    int(DeliveryStatus.SUCCESS),
    int(DeliveryStatus.FAIL),
    int(DeliveryStatus.CANCELED),
)


def minute_of(ms: int) -> int:
    """The start (Unix ms) of the minute holding ``ms``."""
    return ms - ms % MINUTE_MS


@dataclass(frozen=True, slots=True)
class AttemptFact:
    """What an attempt adds to its endpoint's counters."""

    endpoint_id: str
    app_id: str
    at_ms: int
    status: int  # DeliveryStatus
    response_status_code: int
    attempt_number: int
    transform_failed: bool = False


def _attempt_increments(fact: AttemptFact) -> Iterator[str]:
    if fact.attempt_number == 1:
        yield "destinations"
    if fact.status == SUCCESS:
        yield "success"
    elif fact.status == CANCELED:
        yield "canceled"
    elif fact.status == FAIL:
        yield "fail"
        code = fact.response_status_code
        if fact.transform_failed:
            yield "transform_failures"
        if code == 0:
            yield "fail_no_response"
        elif 400 <= code < 500:
            yield "fail_4xx"
        elif code >= 500:
            yield "fail_5xx"


def attempt_rows(facts: Iterable[AttemptFact]) -> list[dict[str, Any]]:
    """One row per (endpoint, minute) with the counts of ``facts``, sorted by that key (one
    lock order for concurrent writers)."""
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for fact in facts:
        key = (fact.endpoint_id, minute_of(fact.at_ms))
        row = rows.get(key)
        if row is None:
            row = rows[key] = {
                "endpoint_id": key[0],
                "minute": key[1],
                "app_id": fact.app_id,
                **dict.fromkeys(ATTEMPT_COUNTERS, 0),
            }
        for counter in _attempt_increments(fact):
            row[counter] += 1
    return [rows[key] for key in sorted(rows)]


def request_rows(facts: Iterable[tuple[str, int, str]]) -> list[dict[str, Any]]:
    """One row per (source, minute) from (source id, received at ms, outcome) triples; an
    outcome without a counter (none today) is left out."""
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for source_id, at_ms, outcome in facts:
        if outcome not in REQUEST_COUNTERS:
            continue
        key = (source_id, minute_of(at_ms))
        row = rows.get(key)
        if row is None:
            row = rows[key] = {
                "source_id": source_id,
                "minute": key[1],
                **dict.fromkeys(REQUEST_COUNTERS, 0),
            }
        row[outcome] += 1
    return [rows[key] for key in sorted(rows)]


def bucket_starts(since_ms: int, until_ms: int, interval_ms: int) -> list[int]:
    """The starts of the intervals covering [since, until): since rounded down to the
    interval, until not included."""
    start = since_ms - since_ms % interval_ms
    return list(range(start, until_ms, interval_ms))
