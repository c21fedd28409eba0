"""hookd: messages created through the API, fanned out to every endpoint, all delivered.

``hookd`` delivers on every core (``HOOKD_DELIVERY_PROCESSES`` set to the machine's cores, as
docs/delivery.md advises); ``hookd-1p`` is the same run in one process (the default).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from bench.model import ScenarioResult
from bench.scenarios.common import RunContext, hookd_result, run_hookd_load

NAME = "hookd"
ONE_PROCESS = "hookd-1p"
CORES = os.cpu_count() or 1


def runner(name: str, processes: int) -> Callable[[RunContext], ScenarioResult]:
    def run(ctx: RunContext) -> ScenarioResult:
        sizes = ctx.sizes
        run_ = run_hookd_load(
            ctx.workdir / name,
            messages=sizes.hookd_messages,
            healthy=sizes.endpoints,
            concurrency=sizes.api_concurrency,
            env={"HOOKD_DELIVERY_PROCESSES": str(processes)},
        )
        summary = (
            f"hookd serve (SQLite), HOOKD_DELIVERY_PROCESSES={processes}, "
            f"{sizes.hookd_messages} messages via the API (concurrency {sizes.api_concurrency}) "
            f"x {sizes.endpoints} endpoints"
        )
        return hookd_result(name, summary, run_)

    return run


SCENARIOS = {NAME: runner(NAME, CORES), ONE_PROCESS: runner(ONE_PROCESS, 1)}
