"""``python -m bench.sandbox_fairness [--seconds N]``: a healthy transformation's latency while
another application's transformations run away.

hookd's transformation sandbox
(``hookd.engine.transformations.sandbox.TransformSandbox``) with its defaults:
two worker processes, a 1 s time limit. Application "runaway" has 5 endpoints whose handler is
``while (true) {}``; each keeps 4 calls outstanding (a delivery worker's backlog of claimed
deliveries), so runaway calls always wait. Application "healthy" has one endpoint whose handler
sets a header; it starts a call every 50 ms (open loop, 20 calls/s) for ``--seconds`` seconds. A
call's latency is from its start until its outcome: waiting for a worker plus running.

Rows:

- ``alone``: the healthy endpoint with no runaway load (the floor).
- ``fair``: under the runaway load, hookd's scheduler (turns per application and endpoint, one
  application holds all but one worker).
- ``first come, first served``: under the same load, every call in one queue and no caps (what
  hookd did before the scheduler).

The worker processes are started and warm before the clock starts. Loopback only; no server.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass

from hookd.core.transformations import TransformedRequest, TransformError, TransformInput
from hookd.engine.transformations.sandbox import DEFAULT_WORKERS, TransformSandbox

RUNAWAY = "function handler(r) { while (true) {} }"
HEALTHY = "function handler(r) { r.headers['x-ok'] = '1'; return r; }"
RUNAWAY_ENDPOINTS = 5
OUTSTANDING_PER_ENDPOINT = 4
HEALTHY_INTERVAL = 0.05
REQUEST = TransformInput.from_http(
    "POST", "https://a.example/hook", {"content-type": "application/json"}, b'{"order": 7}'
)


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    latencies_ms: list[float]
    runaway_timed_out: int

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def run(name: str, *, runaway: bool, fair: bool, seconds: float) -> Row:
    workers = DEFAULT_WORKERS
    if fair:
        pool = TransformSandbox(workers)
    else:
        pool = TransformSandbox(workers, app_slots=workers, endpoint_slots=workers)

    def key(app: str, endpoint: str) -> tuple[str, str]:
        # First come, first served: every call in the same queue.
        return (app, endpoint) if fair else ("", "")

    try:
        healthy = await pool.compile(HEALTHY)
        forever = await pool.compile(RUNAWAY)
        # Start every worker process before the clock starts (one call per app holds one each).
        await asyncio.gather(
            *(pool.apply(healthy, REQUEST, app=f"warm{n}", endpoint="w") for n in range(workers))
        )
        stopping = asyncio.Event()
        timed_out = 0

        async def runaway_caller(endpoint: str) -> None:
            nonlocal timed_out
            while not stopping.is_set():
                try:
                    app, queue = key("runaway", endpoint)
                    await pool.apply(forever, REQUEST, app=app, endpoint=queue)
                except TransformError:
                    timed_out += 1

        loops = [
            asyncio.create_task(runaway_caller(f"loop{n}"))
            for n in range(RUNAWAY_ENDPOINTS if runaway else 0)
            for _ in range(OUTSTANDING_PER_ENDPOINT)
        ]
        latencies: list[float] = []

        async def healthy_call() -> None:
            started = time.perf_counter()
            app, queue = key("healthy", "fine")
            outcome = await pool.apply(healthy, REQUEST, app=app, endpoint=queue)
            assert isinstance(outcome, TransformedRequest)
            latencies.append((time.perf_counter() - started) * 1000)

        calls: list[asyncio.Task[None]] = []
        t0 = time.perf_counter()
        n = 0
        while (now := time.perf_counter()) - t0 < seconds:
            calls.append(asyncio.create_task(healthy_call()))
            n += 1
            await asyncio.sleep(max(0.0, t0 + n * HEALTHY_INTERVAL - now))
        await asyncio.gather(*calls)
        stopping.set()
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        return Row(name, latencies, timed_out)
    finally:
        await pool.close()


def print_table(rows: list[Row]) -> None:
    header = (
        f"{'scenario':<26} {'calls':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'runaway timed out':>18}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        median = statistics.median(row.latencies_ms)
        print(
            f"{row.name:<26} {len(row.latencies_ms):>6} {median:>8.1f} "
            f"{row.percentile(95):>8.1f} {row.percentile(99):>8.1f} "
            f"{max(row.latencies_ms):>8.1f} {row.runaway_timed_out:>18}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="per row (default 15)")
    parser.add_argument(
        "--skip-unfair", action="store_true", help="leave out the first-come-first-served row"
    )
    args = parser.parse_args()
    rows = [
        await run("alone", runaway=False, fair=True, seconds=args.seconds),
        await run("fair", runaway=True, fair=True, seconds=args.seconds),
    ]
    if not args.skip_unfair:
        rows.append(
            await run("first come, first served", runaway=True, fair=False, seconds=args.seconds)
        )
    print_table(rows)


if __name__ == "__main__":
    asyncio.run(main())
