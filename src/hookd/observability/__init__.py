"""What fills the telemetry seam (``hookd.telemetry``): metrics, traces and the log stream.

:func:`build_telemetry` is the one place a server's telemetry is chosen from its settings; the
CLI passes what it returns to ``engine.runtime.Runtime``. Each instrument is a
:class:`~hookd.telemetry.Telemetry` of its own; :func:`combine` makes one of several, and the
no-op when none is configured, so the default path stays free.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hookd.config import Settings
from hookd.telemetry import NO_TELEMETRY, NoTelemetry, Telemetry

# The reporting points, read off the protocol so a new point needs no change here.
POINTS: tuple[str, ...] = tuple(
    name for name, value in vars(Telemetry).items() if callable(value) and not name.startswith("_")
)


def _fan(calls: Sequence[Callable[..., None]]) -> Callable[..., None]:
    def report(*args: Any, **kwargs: Any) -> None:
        for call in calls:
            call(*args, **kwargs)

    return report


class Combined:
    """Reports each point to every part, in order."""

    def __init__(self, parts: Sequence[Telemetry]) -> None:
        self.parts = tuple(parts)
        for point in POINTS:
            setattr(self, point, _fan([getattr(part, point) for part in self.parts]))


def combine(*parts: Telemetry) -> Telemetry:
    """One telemetry reporting to every given part; the no-op when none is left."""
    present = [part for part in parts if type(part) is not NoTelemetry]
    if not present:
        return NO_TELEMETRY
    if len(present) == 1:
        return present[0]
    return Combined(present)  # type: ignore[return-value]  # its points are set in __init__


def build_telemetry(settings: Settings) -> Telemetry:
    """The telemetry a server with these settings reports to."""
    from hookd.observability.metrics import metrics_telemetry

    metrics = metrics_telemetry(settings)
    return combine(*([metrics] if metrics is not None else []))
