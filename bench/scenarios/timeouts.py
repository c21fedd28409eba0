"""20% of endpoints hang: how much throughput do the healthy ones keep?

Two runs with identical settings (``HOOKD_REQUEST_TIMEOUT``): all endpoints healthy, then the
last fifth pointing at listeners that accept and never answer. The comparison is the delivery
rate to the same healthy endpoints in both runs.
"""

from __future__ import annotations

from bench.model import ScenarioResult
from bench.scenarios.common import HookdRun, RunContext, hookd_result, run_hookd_load

NAME = "timeouts"
HUNG_SHARE = 5  # one endpoint in five


def _rate_to(run: HookdRun, ports: list[int]) -> float:
    wanted = set(ports)
    count = sum(1 for arrival in run.healthy_arrivals() if arrival.port in wanted)
    span = run.span()
    return count / span if span > 0 else 0.0


def run(ctx: RunContext) -> ScenarioResult:
    sizes = ctx.sizes
    hung = max(1, sizes.endpoints // HUNG_SHARE)
    healthy = sizes.endpoints - hung
    env = {"HOOKD_REQUEST_TIMEOUT": f"{sizes.request_timeout:g}", "HOOKD_SHUTDOWN_GRACE": "1"}
    common = {"messages": sizes.timeout_messages, "concurrency": sizes.api_concurrency}
    baseline = run_hookd_load(
        ctx.workdir / f"{NAME}-baseline", healthy=sizes.endpoints, env=env, **common
    )
    degraded = run_hookd_load(ctx.workdir / NAME, healthy=healthy, hung=hung, env=env, **common)
    same_endpoints = _rate_to(baseline, baseline.healthy_ports[:healthy])
    kept = _rate_to(degraded, degraded.healthy_ports)
    summary = (
        f"{sizes.timeout_messages} messages x {sizes.endpoints} endpoints, {hung} of them hung "
        f"(request timeout {sizes.request_timeout:g} s); rows count healthy deliveries only"
    )
    result = hookd_result(NAME, summary, degraded)
    baseline_rate = len(baseline.healthy_arrivals()) / baseline.span()
    result.details.update(
        {
            "hung_endpoints": hung,
            "healthy_endpoints": healthy,
            "baseline_deliveries_per_second": baseline_rate,
            "baseline_same_endpoints_per_second": same_endpoints,
            "healthy_per_second": kept,
            "kept_vs_same_endpoints": kept / same_endpoints if same_endpoints else 0.0,
            "kept_vs_all_capacity": kept / baseline_rate if baseline_rate else 0.0,
            "baseline_verified": hookd_result("baseline", "", baseline).verified,
        }
    )
    return result
