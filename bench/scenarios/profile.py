"""The hookd scenario again, with py-spy attached to ``hookd serve`` (numbers not comparable)."""

from __future__ import annotations

from bench.model import ScenarioResult
from bench.profiler import hotspots
from bench.scenarios.common import RunContext, hookd_result, run_hookd_load

NAME = "profile"


def run(ctx: RunContext) -> ScenarioResult:
    sizes = ctx.sizes
    svg = ctx.results_dir / "hookd-profile.svg"
    raw = ctx.results_dir / "hookd-profile.txt"
    run_ = run_hookd_load(
        ctx.workdir / NAME,
        messages=sizes.hookd_messages,
        healthy=sizes.endpoints,
        concurrency=sizes.api_concurrency,
        profile=(svg, raw),
    )
    result = hookd_result(NAME, f"the hookd scenario under py-spy ({svg.name})", run_)
    samples, by_self, by_total = hotspots(raw)
    result.details["profile"] = {
        "svg": str(svg),
        "collapsed_stacks": str(raw),
        "samples": samples,
        "top_self": [[h.function, round(h.self_pct, 2)] for h in by_self],
        "top_inclusive": [[h.function, round(h.total_pct, 2)] for h in by_total],
    }
    return result
