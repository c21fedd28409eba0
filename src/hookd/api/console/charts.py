"""The console's charts, drawn on the server as inline SVG: no script, nothing the page's CSP
(no inline scripts or styles) refuses, readable without images.

Each chart is geometry computed here and drawn by ``templates/charts.html``: the shapes carry
CSS classes (their colours follow the theme), the SVG a ``<title>`` and ``<desc>`` saying what
it shows, and the page a table of the same figures (the textual alternative). docs/architecture.md
(Console) says why no charting library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

WIDTH, HEIGHT = 600, 160  # a chart's viewBox
SPARK_WIDTH, SPARK_HEIGHT = 96, 24  # a sparkline's viewBox


@dataclass(frozen=True, slots=True)
class Segment:
    """One part of a bar: ``kind`` is its CSS class's suffix (``ok``, ``bad``, ``warn``...)."""

    y: float
    height: float
    kind: str


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    width: float
    segments: tuple[Segment, ...]


@dataclass(frozen=True, slots=True)
class Chart:
    """Stacked bars, one per interval, and the figures they draw (``rows``: the interval's
    start and one number per ``columns``)."""

    key: str  # unique on the page: the SVG's title and description ids
    title: str
    description: str
    columns: tuple[tuple[str, str], ...]  # (label, kind) of each stacked series, bottom first
    rows: list[tuple[datetime, tuple[int, ...]]]
    bars: list[Bar]
    peak: int
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def empty(self) -> bool:
        return self.peak == 0


def bar_chart(
    key: str,
    title: str,
    columns: Sequence[tuple[str, str, str]],
    points: Sequence[tuple[datetime, dict[str, int]]],
    *,
    period: str,
) -> Chart:
    """A chart of ``points`` (interval start, counters), one stacked bar per interval:
    ``columns`` are (counter, label, kind), the bottom of the stack first."""
    rows = [(at, tuple(int(values[name]) for name, _, _ in columns)) for at, values in points]
    peak = max((sum(figures) for _, figures in rows), default=0)
    step = WIDTH / max(len(rows), 1)
    gap = min(1.0, step / 4)
    bars: list[Bar] = []
    for index, (_, figures) in enumerate(rows):
        bottom = float(HEIGHT)
        segments = []
        for (_, _, kind), figure in zip(columns, figures, strict=True):
            if figure <= 0 or peak == 0:
                continue
            height = HEIGHT * figure / peak
            bottom -= height
            segments.append(Segment(round(bottom, 2), round(height, 2), kind))
        if segments:
            bars.append(
                Bar(round(index * step + gap / 2, 2), round(step - gap, 2), tuple(segments))
            )
    totals = [sum(figures[i] for _, figures in rows) for i in range(len(columns))]
    said = ", ".join(
        f"{total} {label.lower()}" for total, (_, label, _) in zip(totals, columns, strict=True)
    )
    description = (
        f"{title} over {period}, {len(rows)} intervals: {said}; the busiest interval had {peak}."
        if peak
        else f"{title} over {period}: none."
    )
    return Chart(
        key=key,
        title=title,
        description=description,
        columns=tuple((label, kind) for _, label, kind in columns),
        rows=rows,
        bars=bars,
        peak=peak,
    )


@dataclass(frozen=True, slots=True)
class Sparkline:
    """A small line of percentages (0 to 100): one polyline per run of known values, and what
    it says in words (its ``<title>``)."""

    lines: tuple[str, ...]
    dots: tuple[tuple[float, float], ...]  # a known value alone between gaps
    text: str
    width: int = SPARK_WIDTH
    height: int = SPARK_HEIGHT


def sparkline(values: Sequence[float | None], *, what: str) -> Sparkline:
    """``values`` (None: no data for that interval) as a sparkline, described as ``what``
    (for example "success rate per hour over the last 24 hours")."""
    step = SPARK_WIDTH / max(len(values) - 1, 1)
    pad = 2  # the stroke stays inside the box at 0 and 100
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for index, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
            continue
        y = pad + (SPARK_HEIGHT - 2 * pad) * (1 - max(0.0, min(100.0, value)) / 100)
        current.append((round(index * step, 2), round(y, 2)))
    if current:
        runs.append(current)
    known = [value for value in values if value is not None]
    if known:
        last = known[-1]
        text = (
            f"{what.capitalize()}: lowest {min(known):.0f}%, latest {last:.0f}% "
            f"({len(known)} of {len(values)} intervals with deliveries)"
        )
    else:
        text = f"{what.capitalize()}: no deliveries"
    lines = tuple(" ".join(f"{x},{y}" for x, y in run) for run in runs if len(run) > 1)
    dots = tuple(run[0] for run in runs if len(run) == 1)
    return Sparkline(lines, dots, text)
