"""hookd: messages created through the API, fanned out to every endpoint, all delivered."""

from __future__ import annotations

from bench.model import ScenarioResult
from bench.scenarios.common import RunContext, hookd_result, run_hookd_load

NAME = "hookd"


def run(ctx: RunContext) -> ScenarioResult:
    sizes = ctx.sizes
    run_ = run_hookd_load(
        ctx.workdir / NAME,
        messages=sizes.hookd_messages,
        healthy=sizes.endpoints,
        concurrency=sizes.api_concurrency,
    )
    summary = (
        f"hookd serve (SQLite), {sizes.hookd_messages} messages via the API "
        f"(concurrency {sizes.api_concurrency}) x {sizes.endpoints} endpoints"
    )
    return hookd_result(NAME, summary, run_)
