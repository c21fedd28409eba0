"""Where most senders are: each message to one endpoint, created the way the svix SDK creates it.

The ``hookd`` scenario fans every message out to 10 endpoints, so one create pays for ten
deliveries; here one create is one delivery. 32 producers in a closed loop send the svix SDK's
request (its headers, an ``Idempotency-Key`` on every create, the answer carrying the payload
back: ``bench.loadgen --svix``) to ``hookd serve`` in its default configuration, what
``make run`` starts. Compared with the ``raw`` ceiling of the same run (target: >= 0.4x).
"""

from __future__ import annotations

from bench.model import ScenarioResult
from bench.scenarios.common import RunContext, hookd_result, run_hookd_load

NAME = "one-to-one"


def run(ctx: RunContext) -> ScenarioResult:
    sizes = ctx.sizes
    run_ = run_hookd_load(
        ctx.workdir / NAME,
        messages=sizes.one_to_one_messages,
        healthy=1,
        concurrency=sizes.api_concurrency,
        svix=True,
    )
    summary = (
        f"hookd serve as `make run` starts it (SQLite), {sizes.one_to_one_messages} messages "
        f"created as the svix SDK creates them (concurrency {sizes.api_concurrency}, an "
        "idempotency key each), one endpoint per message"
    )
    return hookd_result(NAME, summary, run_)
