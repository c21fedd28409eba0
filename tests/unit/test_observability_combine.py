"""``observability.combine``: one telemetry reporting every point to each part."""

from __future__ import annotations

from typing import Any

from hookd.observability import POINTS, Combined, combine
from hookd.telemetry import NO_TELEMETRY, NoTelemetry, Telemetry


class Recorder(NoTelemetry):
    __slots__ = ("calls",)

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def claim_round(self, claimed: int, budget: int, duration_s: float) -> None:
        self.calls.append(("claim_round", (claimed, budget, duration_s)))


def test_points_are_the_protocols_methods() -> None:
    assert "attempt_finished" in POINTS
    assert "ingest_outcome" in POINTS
    assert all(hasattr(NoTelemetry, point) for point in POINTS)


def test_nothing_configured_is_the_no_op() -> None:
    assert combine() is NO_TELEMETRY
    assert combine(NO_TELEMETRY, NoTelemetry()) is NO_TELEMETRY


def test_one_part_is_used_as_it_is() -> None:
    part = Recorder()
    assert combine(NO_TELEMETRY, part) is part


def test_every_part_hears_every_report_in_order() -> None:
    first, second = Recorder(), Recorder()
    both: Telemetry = combine(first, second)
    assert isinstance(both, Combined)
    both.claim_round(3, 8, 0.5)
    both.handed_off(2)  # a point neither records: still callable
    assert first.calls == [("claim_round", (3, 8, 0.5))]
    assert second.calls == first.calls
