"""hookd on PostgreSQL: one ``--role api`` process and 1 or 2 ``--role worker`` processes.

The same load and checks as the ``hookd`` scenario; each run gets a throwaway database
(schema by ``hookd migrate``) on the PostgreSQL server at ``HOOKD_BENCH_POSTGRES_URL``
(default ``postgresql://postgres@127.0.0.1:5432/postgres``), dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import Callable

import asyncpg

from bench.model import ScenarioResult
from bench.procs import python_module
from bench.scenarios.common import RunContext, hookd_result, run_hookd_load

ADMIN_URL = os.environ.get(
    "HOOKD_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
WORKERS = (1, 2)


def name(workers: int) -> str:
    return f"hookd-pg-{workers}w"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def runner(workers: int) -> Callable[[RunContext], ScenarioResult]:
    def run(ctx: RunContext) -> ScenarioResult:
        sizes, database = ctx.sizes, f"hookd_bench_{uuid.uuid4().hex[:8]}"
        url = f"{ADMIN_URL.rpartition('/')[0]}/{database}"
        asyncio.run(_admin(f'CREATE DATABASE "{database}"'))
        try:
            subprocess.run(
                python_module("hookd.cli", "migrate", "--database-url", url),
                check=True,
                capture_output=True,
            )
            result = run_hookd_load(
                ctx.workdir / name(workers),
                messages=sizes.hookd_messages,
                healthy=sizes.endpoints,
                concurrency=sizes.api_concurrency,
                database_url=url,
                workers=workers,
            )
        finally:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        summary = (
            f"hookd on PostgreSQL, 1 API + {workers} worker process(es), "
            f"{sizes.hookd_messages} messages via the API (concurrency {sizes.api_concurrency}) "
            f"x {sizes.endpoints} endpoints"
        )
        return hookd_result(name(workers), summary, result)

    return run


SCENARIOS = {name(workers): runner(workers) for workers in WORKERS}
