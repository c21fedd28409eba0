"""The comparisons and the performance targets the report checks."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.model import ScenarioResult

TARGET_RATE = 500.0
# The create API's keyed creates per second before issue 19's work, measured on this machine
# on 2026-12-07 (32 in flight, no endpoint): its target is 2.5 times this.
CREATES_BEFORE = 2_440.0


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    measured: str
    met: bool | None  # None: the scenarios it needs did not run


def _ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(b) else math.nan


def comparisons(results: dict[str, ScenarioResult]) -> dict[str, float]:
    hookd, raw, celery = results.get("hookd"), results.get("raw"), results.get("celery")
    out: dict[str, float] = {}
    if hookd and raw:
        out["hookd/raw deliveries/s"] = _ratio(hookd.per_second, raw.per_second)
        out["hookd/raw CPU per delivery"] = _ratio(hookd.cpu_per_1k, raw.cpu_per_1k)
    if (one := results.get("hookd-1p")) and raw:
        out["hookd in one process/raw deliveries/s"] = _ratio(one.per_second, raw.per_second)
    if hookd and celery:
        out["hookd/celery deliveries/s"] = _ratio(hookd.per_second, celery.per_second)
        out["celery/hookd CPU per delivery"] = _ratio(celery.cpu_per_1k, hookd.cpu_per_1k)
    if (single := results.get("one-to-one")) and raw:
        out["one-to-one/raw deliveries/s"] = _ratio(single.per_second, raw.per_second)
        out["one-to-one/raw CPU per delivery"] = _ratio(single.cpu_per_1k, raw.cpu_per_1k)
    if create := results.get("create-api"):
        out["create API/before creates/s"] = _ratio(create.per_second, CREATES_BEFORE)
    # Two processes each: the API and a worker, the server and a delivery process.
    if (pg1 := results.get("hookd-pg-1w")) and hookd:
        out["PostgreSQL 1 worker/SQLite deliveries/s"] = _ratio(pg1.per_second, hookd.per_second)
    if pg1 and (pg2 := results.get("hookd-pg-2w")):
        out["PostgreSQL 2 workers/1 worker deliveries/s"] = _ratio(pg2.per_second, pg1.per_second)
    if ingest := results.get("ingest"):
        out["ingest hookd/bare Starlette requests/s"] = ingest.details["ratio_vs_bare"]
    return out


def targets(results: dict[str, ScenarioResult], quick: bool) -> list[Target]:
    ratios = comparisons(results)
    found: list[Target] = []

    def add(name: str, value: float | None, fmt: str, ok: bool) -> None:
        if value is None or math.isnan(value):
            found.append(Target(name, "not run", None))
        else:
            found.append(Target(name, fmt.format(value), ok))

    raw_ratio = ratios.get("hookd/raw deliveries/s")
    add("hookd >= 0.6x raw", raw_ratio, "{:.2f}x", (raw_ratio or 0) >= 0.6)
    celery_ratio = ratios.get("hookd/celery deliveries/s")
    add("hookd >= 10x Celery", celery_ratio, "{:.1f}x", (celery_ratio or 0) >= 10)
    fixed = results.get("fixed-rate")
    p99 = fixed.latency.p99_ms if fixed and fixed.latency else None
    if fixed is not None and fixed.details.get("target_rate") != TARGET_RATE:
        rate = fixed.details.get("target_rate")
        found.append(Target("p99 <= 25 ms at 500 msg/s", f"ran at {rate:g} msg/s", None))
    else:
        add("p99 <= 25 ms at 500 msg/s", p99, "{:.1f} ms", (p99 or math.inf) <= 25)
    timeouts = results.get("timeouts")
    kept = timeouts.details.get("kept_vs_same_endpoints") if timeouts else None
    add("healthy keep >= 90% with 20% hung", kept, "{:.0%}", (kept or 0) >= 0.9)
    ingest_ratio = ratios.get("ingest hookd/bare Starlette requests/s")
    add("ingest >= 0.5x bare Starlette", ingest_ratio, "{:.2f}x", (ingest_ratio or 0) >= 0.5)
    sealed = results.get("secrets")
    cost = sealed.details.get("sealed_vs_plain_cpu") if sealed else None
    add("sealed secrets <= 1.05x CPU per delivery", cost, "{:.3f}x", (cost or math.inf) <= 1.05)
    single = ratios.get("one-to-one/raw deliveries/s")
    add("one-to-one >= 0.4x raw", single, "{:.2f}x", (single or 0) >= 0.4)
    creates = ratios.get("create API/before creates/s")
    # Another day's figure: README "Performance" compares the trees before and after in one run.
    add("create API >= 2.5x 2,440/s (issue 19)", creates, "{:.2f}x", (creates or 0) >= 2.5)
    create = results.get("create-api")
    open_p99 = create.details["open_loop_latency_ms"]["p99_ms"] if create else None
    add("create API p99 <= 10 ms at half rate", open_p99, "{:.1f} ms", (open_p99 or 99) <= 10)
    pg_one = ratios.get("PostgreSQL 1 worker/SQLite deliveries/s")
    add("PostgreSQL 1 worker >= 0.6x SQLite", pg_one, "{:.2f}x", (pg_one or 0) >= 0.6)
    pg_two = ratios.get("PostgreSQL 2 workers/1 worker deliveries/s")
    add("PostgreSQL 2 workers >= 1 worker", pg_two, "{:.2f}x", (pg_two or 0) >= 1.0)
    backlog = results.get("backlog")
    rss = backlog.peak_rss_mb if backlog else None
    label = "RSS <= 300 MB with 1M pending" + (" (quick: 100k)" if quick else "")
    add(label, rss, "{:.0f} MB", (rss or math.inf) <= 300)
    scraped = results.get("metrics")
    if scraped is None:
        found.append(Target("every documented series moves", "not run", None))
    else:
        total, still = scraped.details["documented"], scraped.details["not_moved"]
        measured = f"{total - len(still)} of {total} moved"
        found.append(Target("every documented series moves", measured, not still))
    console = results.get("console-pages")
    pages = None
    if console is not None:
        d = console.details
        pages = max(d["log_first_page_ms"]["p99"], d["message_page_ms"]["p99"])
    label = "console pages p99 < 200 ms over 1M messages" + (" (quick: 100k)" if quick else "")
    add(label, pages, "{:.0f} ms", (pages or math.inf) < 200)
    return found
