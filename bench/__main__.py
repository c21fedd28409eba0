"""``python -m bench [--quick] [--scenario NAME ...] [--out FILE]``: run, print, write JSON."""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench.model import ScenarioResult
from bench.procs import REPO_ROOT
from bench.report import render, write_json
from bench.scenarios import (
    backlog,
    celery,
    console,
    create_api,
    fixed_rate,
    hookd,
    ingest,
    metrics,
    one_to_one,
    postgres,
    profile,
    raw,
    secrets,
    telemetry,
    timeouts,
)
from bench.scenarios.common import RunContext
from bench.sink import find_nginx
from bench.sizes import FULL, QUICK

SCENARIOS: dict[str, Callable[[RunContext], ScenarioResult]] = {
    raw.NAME: raw.run,
    **hookd.SCENARIOS,
    one_to_one.NAME: one_to_one.run,
    create_api.NAME: create_api.run,
    **postgres.SCENARIOS,
    celery.NAME: celery.run,
    fixed_rate.NAME: fixed_rate.run,
    timeouts.NAME: timeouts.run,
    secrets.NAME: secrets.run,
    telemetry.NAME: telemetry.run,
    # Before the backlog: the kernel writes its 2 GB SQLite file back to disk for a while after,
    # which took the ingest ratio from 0.51x (run alone) to 0.43x in a full run.
    ingest.NAME: ingest.run,
    backlog.NAME: backlog.run,
    metrics.NAME: metrics.run,
    console.NAME: console.run,
    profile.NAME: profile.run,
}
# py-spy slows hookd down while it samples, so the profile is a separate run, full mode only.
NOT_IN_QUICK = {profile.NAME}
DEFAULT_OUT = REPO_ROOT / "bench" / "results" / "latest.json"


def environment() -> dict[str, Any]:
    nginx = subprocess.run([find_nginx(), "-v"], capture_output=True, text=True, check=False)
    packages = {}
    for name in ("hookd", "aiohttp", "uvloop", "uvicorn", "sqlalchemy", "celery", "requests"):
        try:
            packages[name] = version(name)
        except Exception:
            packages[name] = None
    import hookd

    return {
        "when": datetime.now(UTC).isoformat(),
        "hookd_source": str(Path(hookd.__file__).parent),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "nginx": nginx.stderr.strip(),
        "packages": packages,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (3 to 4 minutes)")
    parser.add_argument(
        "--scenario", action="append", choices=list(SCENARIOS), help="run only these (repeatable)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument(
        "--fixed-rate", type=float, help="messages/s for the fixed-rate scenario (default 500)"
    )
    parser.add_argument("--keep-temp", action="store_true", help="keep the work directory")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    names = args.scenario or [n for n in SCENARIOS if not (args.quick and n in NOT_IN_QUICK)]
    find_nginx()  # fail (or install) before anything starts
    workdir = Path(tempfile.mkdtemp(prefix="hookd-bench-"))
    results_dir = args.out.resolve().parent
    results_dir.mkdir(parents=True, exist_ok=True)
    sizes = QUICK if args.quick else FULL
    if args.fixed_rate:
        sizes = dataclasses.replace(sizes, fixed_rate=args.fixed_rate)
    ctx = RunContext(
        sizes=sizes,
        workdir=workdir,
        results_dir=results_dir,
        quick=args.quick,
    )
    results: dict[str, ScenarioResult] = {}
    errors: dict[str, str] = {}
    started = time.monotonic()
    try:
        for name in names:
            print(f"[{time.monotonic() - started:6.1f}s] {name} ...", flush=True)
            try:
                results[name] = SCENARIOS[name](ctx)
            except Exception:
                errors[name] = traceback.format_exc()
                print(f"{name} failed:\n{errors[name]}", file=sys.stderr, flush=True)
            else:
                r = results[name]
                print(f"         {r.deliveries:,} deliveries, {r.per_second:,.0f}/s", flush=True)
    finally:
        if args.keep_temp:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    meta = environment() | {
        "quick": args.quick,
        "scenarios": names,
        "errors": errors,
        "total_seconds": time.monotonic() - started,
    }
    render(results, args.quick)
    write_json(args.out, results, meta, args.quick)
    print(f"\nwrote {args.out}")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
