"""What sealing secrets costs on the delivery path: the ``hookd-1p`` load, same run, twice.

One server stores its secrets sealed (as hookd does), the other in the clear
(``bench.plain_secrets``: the same sources with sealing replaced by the identity). Full mode runs
plain, sealed, sealed, plain (so a drift of the machine's load during the run weighs on both
alike), ``--quick`` one of each. The row is the sealed runs together; the ratio of CPU seconds per
delivery, sealed over plain, is the target (<= 1.05).
"""

from __future__ import annotations

from bench.model import ScenarioResult
from bench.scenarios.common import HookdRun, RunContext, hookd_result, run_hookd_load

NAME = "secrets"
PLAIN_MODULE = "bench.plain_secrets"


def _cpu_per_1k(runs: list[HookdRun]) -> float:
    cpu = sum(run.usage.cpu_seconds for run in runs)
    deliveries = sum(len(run.healthy_arrivals()) for run in runs)
    return cpu / deliveries * 1000 if deliveries else float("nan")


def run(ctx: RunContext) -> ScenarioResult:
    sizes = ctx.sizes
    order = ["plain", "sealed"] if ctx.quick else ["plain", "sealed", "sealed", "plain"]
    runs: dict[str, list[HookdRun]] = {"plain": [], "sealed": []}
    for i, kind in enumerate(order):
        runs[kind].append(
            run_hookd_load(
                ctx.workdir / f"{NAME}-{kind}-{i}",
                messages=sizes.hookd_messages,
                healthy=sizes.endpoints,
                concurrency=sizes.api_concurrency,
                env={"HOOKD_DELIVERY_PROCESSES": "1"},
                module=PLAIN_MODULE if kind == "plain" else "hookd.cli",
            )
        )
    summary = (
        f"hookd-1p's load ({sizes.hookd_messages} messages x {sizes.endpoints} endpoints) with "
        f"secrets sealed vs stored in the clear, runs {', '.join(order)}; the row: sealed runs"
    )
    result = hookd_result(NAME, summary, runs["sealed"][-1])
    plain, sealed = _cpu_per_1k(runs["plain"]), _cpu_per_1k(runs["sealed"])
    result.details.update(
        {
            "order": order,
            "plain_cpu_seconds_per_1000": plain,
            "sealed_cpu_seconds_per_1000": sealed,
            "sealed_vs_plain_cpu": sealed / plain if plain else float("nan"),
            "per_run_cpu_seconds_per_1000": {
                kind: [_cpu_per_1k([r]) for r in kind_runs] for kind, kind_runs in runs.items()
            },
            "verified_all": [hookd_result(k, "", r).verified for k in runs for r in runs[k]],
        }
    )
    bad = [v for v in result.details["verified_all"] if not v.startswith("ok")]
    if bad:
        result.verified = f"MISMATCH in {len(bad)} of {len(order)} runs: {bad[0]}"
    return result
