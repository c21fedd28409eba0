"""hookd under a steady open-loop load: latency when it is not saturated."""

from __future__ import annotations

from bench.model import ScenarioResult
from bench.scenarios.common import RunContext, hookd_result, run_hookd_load

NAME = "fixed-rate"
# Open loop: requests in flight may pile up to this many before starts are delayed.
MAX_IN_FLIGHT = 256


def run(ctx: RunContext) -> ScenarioResult:
    sizes = ctx.sizes
    messages = int(sizes.fixed_rate * sizes.fixed_rate_seconds)
    run_ = run_hookd_load(
        ctx.workdir / NAME,
        messages=messages,
        healthy=sizes.fixed_rate_endpoints,
        concurrency=MAX_IN_FLIGHT,
        rate=sizes.fixed_rate,
    )
    summary = (
        f"hookd at {sizes.fixed_rate:g} msg/s for {sizes.fixed_rate_seconds:g} s, "
        f"{sizes.fixed_rate_endpoints} endpoint(s) per message"
    )
    result = hookd_result(NAME, summary, run_)
    result.details["target_rate"] = sizes.fixed_rate
    return result
