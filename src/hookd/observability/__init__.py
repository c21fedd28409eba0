"""What fills the telemetry seam (``hookd.telemetry``): metrics, traces and the log stream.

:func:`build_telemetry` is the one place a server's telemetry is chosen from its settings; the
CLI passes what it returns to ``engine.runtime.Runtime``. Each instrument is a
:class:`~hookd.telemetry.Telemetry` of its own; :func:`combine` makes one of several, and the
no-op when none is configured, so the default path stays free.

Traces have a port of their own (``hookd.tracing``: spans, not plain-valued reports), chosen
beside it by :func:`build_tracing` and passed to the runtime as ``tracing``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import structlog

from hookd.config import Settings
from hookd.telemetry import NO_TELEMETRY, NoTelemetry, Telemetry
from hookd.tracing import Tracing

log = structlog.get_logger("hookd")

# What asks for traces (docs/observability.md, "Traces").
TRACES_ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
TRACES_EXPORTER = "OTEL_TRACES_EXPORTER"
SDK_DISABLED = "OTEL_SDK_DISABLED"

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


def tracing_wanted(environ: Mapping[str, str]) -> bool:
    """Whether the ``OTEL_*`` variables ask for traces: an OTLP endpoint or a trace exporter
    (other than ``none``) is named, and the SDK is not disabled."""
    if environ.get(SDK_DISABLED, "").strip().lower() == "true":
        return False
    exporter = environ.get(TRACES_EXPORTER, "").strip().lower()
    if exporter == "none":
        return False
    return bool(exporter) or any(environ.get(name) for name in TRACES_ENDPOINTS)


def build_tracing(settings: Settings, environ: Mapping[str, str] = os.environ) -> Tracing | None:
    """The tracing a server reports to: None (off, the free path) unless the ``OTEL_*``
    variables ask for it and the ``otel`` extra is installed. OpenTelemetry is imported only
    here, and only then."""
    if not tracing_wanted(environ):
        return None
    try:
        tracing = importlib.import_module("hookd.observability.tracing")
    except ImportError as exc:
        log.warning(
            "traces are configured but OpenTelemetry is not installed: pip install 'hookd[otel]'",
            missing=exc.name,
        )
        return None
    built: Tracing = tracing.from_environment(environ)
    return built
