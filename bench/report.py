"""Print the results as tables (rich when installed, plain text otherwise) and write JSON."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from bench.model import ScenarioResult
from bench.targets import Target, comparisons, targets

HEADERS = (
    "scenario", "deliveries", "seconds", "deliv/s", "p50 ms", "p99 ms",
    "CPU s/1k", "peak RSS MB", "other CPU", "check",
)  # fmt: skip


def _num(value: float, digits: int = 0) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def _other(result: ScenarioResult) -> str:
    """CPU used by unrelated processes during the window, as cores (a shared-machine warning)."""
    usage = result.usage
    if usage is None or usage.window_seconds <= 0:
        return "-"
    return f"{result.other_cpu_seconds / usage.window_seconds:.2f}"


def rows(results: Sequence[ScenarioResult]) -> list[list[str]]:
    table = []
    for r in results:
        latency = r.latency
        table.append(
            [
                r.name,
                f"{r.deliveries:,}",
                _num(r.seconds, 1),
                _num(r.per_second),
                _num(latency.p50_ms if latency else math.nan, 1),
                _num(latency.p99_ms if latency else math.nan, 1),
                _num(r.cpu_per_1k, 2),
                _num(r.peak_rss_mb),
                _other(r),
                r.verified.split(":", 1)[0],
            ]
        )
    return table


def notes(results: dict[str, ScenarioResult]) -> list[str]:
    lines = [f"{r.name}: {r.summary}. {r.verified}" for r in results.values()]
    if (t := results.get("timeouts")) is not None:
        d = t.details
        lines.append(
            f"timeouts: healthy endpoints {d['healthy_per_second']:,.0f}/s vs "
            f"{d['baseline_same_endpoints_per_second']:,.0f}/s for the same endpoints when all "
            f"are healthy ({d['kept_vs_same_endpoints']:.0%}); vs the whole all-healthy rate "
            f"{d['baseline_deliveries_per_second']:,.0f}/s: {d['kept_vs_all_capacity']:.0%}"
        )
    if (s := results.get("secrets")) is not None:
        d = s.details
        per_run = d["per_run_cpu_seconds_per_1000"]
        lines.append(
            f"secrets: CPU s per 1,000 deliveries sealed {d['sealed_cpu_seconds_per_1000']:.3f} "
            f"vs plain {d['plain_cpu_seconds_per_1000']:.3f} "
            f"({d['sealed_vs_plain_cpu']:.3f}x); per run: sealed "
            f"{', '.join(f'{v:.3f}' for v in per_run['sealed'])}, plain "
            f"{', '.join(f'{v:.3f}' for v in per_run['plain'])}"
        )
    if (m := results.get("telemetry")) is not None:
        d = m.details
        lines.append(
            f"telemetry: on vs no-op: deliveries/s {d['on_deliveries_per_s']:,.0f} vs "
            f"{d['off_deliveries_per_s']:,.0f} ({d['on_vs_off_deliveries_per_s']:.3f}x, target "
            f">= 0.95x); CPU s per 1,000 deliveries {d['on_cpu_seconds_per_1000']:.3f} vs "
            f"{d['off_cpu_seconds_per_1000']:.3f} ({d['on_vs_off_cpu']:.3f}x, target <= 1.05x)"
        )
    if (b := results.get("backlog")) is not None:
        d = b.details
        lines.append(
            f"backlog: inserted in {d['backlog_insert_seconds']:.0f} s "
            f"({d['db_megabytes']:,.0f} MB file); ready after {d['ready_seconds']:.1f} s; "
            f"drain {b.per_second:,.0f}/s from start, "
            f"{d['drain_per_second_after_ready']:,.0f}/s after ready; "
            f"RSS peak {b.peak_rss_mb:.0f} MB, {d['rss_mb_at_end_of_window']:.0f} MB at the end"
        )
    if (c := results.get("console-pages")) is not None:
        d = c.details
        log, one = d["log_first_page_ms"], d["message_page_ms"]
        failed = d["failed_at_endpoint_page_ms"]
        lines.append(
            f"console-pages: {d['messages']:,} messages inserted in {d['insert_seconds']:.0f} s "
            f"({d['db_megabytes']:,.0f} MB file); log first page p50 {log['p50']:.1f} ms, "
            f"p99 {log['p99']:.1f} ms; a message's page p50 {one['p50']:.1f} ms, "
            f"p99 {one['p99']:.1f} ms; failed at one endpoint p50 {failed['p50']:.1f} ms, "
            f"p99 {failed['p99']:.1f} ms"
        )
    if (f := results.get("fixed-rate")) is not None and f.latency is not None:
        api = f.details["api_create_latency_ms"]
        lines.append(
            f"fixed-rate: achieved {f.details['messages_created'] / max(f.seconds, 1e-9):,.0f} "
            f"msg/s; p90 {f.latency.p90_ms:.1f} ms, max {f.latency.max_ms:.1f} ms; API create "
            f"p50 {api['p50_ms']:.1f} ms, p99 {api['p99_ms']:.1f} ms; "
            f"late starts {f.details['late_starts']}"
        )
    if (c := results.get("create-api")) is not None:
        d = c.details
        loop, disk = d["open_loop_latency_ms"], d["disk_sync_ms"]
        floor, inside = d["floor_open_loop_latency_ms"], d["open_loop_in_server_ms"]
        lines.append(
            f"create-api: open loop at {d['open_loop_rate']:,.0f}/s offered "
            f"({d['open_loop_achieved_per_s']:,.0f}/s achieved): p50 {loop['p50_ms']:.1f} ms, "
            f"p99 {loop['p99_ms']:.1f} ms (inside the server: p50 {inside['p50_ms']:.1f} ms, p99 "
            f"{inside['p99_ms']:.1f} ms); floors in the same run: a bare Starlette 201 at the "
            f"same rate p50 {floor['p50_ms']:.1f} ms, p99 {floor['p99_ms']:.1f} ms; the disk's "
            f"own sync (4 KiB append + fsync, same directory): p50 {disk['p50_ms']:.2f} ms, "
            f"p99 {disk['p99_ms']:.2f} ms, max {disk['max_ms']:.1f} ms"
        )
    if (m := results.get("metrics")) is not None:
        d = m.details
        outcomes = d["moved"].get("hookd_delivery_attempts_total", {})
        seen = sorted(
            {k.split("outcome=", 1)[1].split(",")[0] for k in outcomes if "outcome=" in k}
        )
        timed = [(t, name) for name, t in d["moved_after_seconds"].items() if t is not None]
        last = max(timed) if timed else None
        lines.append(
            f"metrics: {d['scrapes']} scrapes ({d['scrape_errors']} failed); attempt outcomes "
            f"seen: {', '.join(seen)}"
            + (f"; the last series to move: {last[1]}, after {last[0]:.0f} s" if last else "")
        )
    if (p := results.get("profile")) is not None and "profile" in p.details:
        prof = p.details["profile"]
        lines.append(f"profile ({prof['samples']} samples), top self time:")
        lines += [f"  {pct:5.1f}%  {fn}" for fn, pct in prof["top_self"][:12]]
        lines.append("hookd functions by inclusive time:")
        lines += [f"  {pct:5.1f}%  {fn}" for fn, pct in prof["top_inclusive"][:15]]
    return lines


def _target_rows(found: list[Target]) -> list[list[str]]:
    verdict = {True: "met", False: "NOT met", None: "-"}
    return [[t.name, t.measured, verdict[t.met]] for t in found]


def _plain(title: str, headers: Sequence[str], body: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *body, strict=False)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [title, line, "-" * len(line)]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in body]
    return "\n".join(out)


def render(results: dict[str, ScenarioResult], quick: bool) -> None:
    ratio_rows = [[name, f"{value:.2f}"] for name, value in comparisons(results).items()]
    tables = [
        (
            "Delivery benchmark" + (" (--quick)" if quick else ""),
            HEADERS,
            rows(list(results.values())),
        ),
        ("Ratios", ("ratio", "value"), ratio_rows),
        ("Targets", ("target", "measured", "verdict"), _target_rows(targets(results, quick))),
    ]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        for title, headers, body in tables:
            print(_plain(title, headers, body) + "\n")
    else:
        console = Console(width=160)
        for title, headers, body in tables:
            table = Table(title=title, title_justify="left")
            for i, header in enumerate(headers):
                table.add_column(header, justify="left" if i == 0 else "right")
            for row in body:
                table.add_row(*row)
            console.print(table)
    print("\n".join(notes(results)))


def write_json(
    path: Path, results: dict[str, ScenarioResult], meta: dict[str, Any], quick: bool
) -> None:
    document = {
        "meta": meta,
        "scenarios": {name: result.to_json() for name, result in results.items()},
        "comparisons": comparisons(results),
        "targets": [
            {"target": t.name, "measured": t.measured, "met": t.met}
            for t in targets(results, quick)
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str)
    )
