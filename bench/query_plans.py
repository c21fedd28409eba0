"""``python -m bench.query_plans [--rows N]``: PostgreSQL query plans of hookd's hot queries.

Builds a throwaway database (schema by ``hookd migrate``) holding ``--rows`` messages (default
1,000,000) over 100 applications with one endpoint each, one delivery and one attempt per message
(the newest 1 % still pending), spread over the last 120 days with ids from ``hookd.ids``. Then it
runs hookd's own store functions, captures the SQL they send, and prints ``EXPLAIN ANALYZE`` of
each statement (inside a transaction that is rolled back). The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd import ids
from hookd.store import attempts, deliveries, messages, retention, scheduling
from hookd.store.codec import to_ms
from hookd.store.db import Database

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
APPS = 100
SPAN = timedelta(days=120)
PENDING_SHARE = 0.01
Step = Callable[[AsyncConnection], Awaitable[Any]]


def build_rows(count: int, now: datetime) -> dict[str, list[tuple[Any, ...]]]:
    """Applications, endpoints, messages, deliveries and attempts, oldest first."""
    t0 = now - SPAN
    apps = [ids.new_id(ids.APPLICATION, t0) for _ in range(APPS)]
    eps = [ids.new_id(ids.ENDPOINT, t0) for _ in range(APPS)]
    t0_ms = to_ms(t0)
    rows: dict[str, list[tuple[Any, ...]]] = {
        "applications": [
            (a, None, f"app {n}", None, "{}", "app", t0_ms, t0_ms) for n, a in enumerate(apps)
        ],
        "endpoints": [
            (
                e,
                a,
                None,
                f"https://example.com/{n}",
                "",
                1,
                False,
                None,
                None,
                None,
                "{}",
                "{}",
                "whsec_x",
                "[]",
                t0_ms,
                t0_ms,
            )
            for n, (e, a) in enumerate(zip(eps, apps, strict=True))
        ],
        "messages": [],
        "deliveries": [],
        "attempts": [],
    }
    first_pending = int(count * (1 - PENDING_SHARE))
    for n in range(count):
        created = t0 + SPAN * (n / count)
        created_ms, app, ep = to_ms(created), apps[n % APPS], eps[n % APPS]
        msg = ids.new_id(ids.MESSAGE, created)
        rows["messages"].append(
            (
                msg,
                app,
                "user.created",
                None,
                None,
                None,
                b'{"n": %d}' % n,
                None,
                None,
                created_ms,
                created_ms + 90 * 86_400_000,
            )
        )
        pending = n >= first_pending
        due = created_ms + (60_000 if n % 2 else -60_000) if pending else None
        rows["deliveries"].append(
            (
                ids.new_id(ids.DELIVERY, created),
                msg,
                ep,
                app,
                1 if pending else 0,
                0 if pending else 1,
                due,
                None,
                False,
                created_ms,
                created_ms,
            )
        )
        if not pending:
            rows["attempts"].append(
                (
                    ids.new_id(ids.ATTEMPT, created),
                    msg,
                    ep,
                    app,
                    f"https://example.com/{n % APPS}",
                    0,
                    204,
                    "",
                    12,
                    0,
                    1,
                    created_ms,
                )
            )
    return rows


COLUMNS = {
    "applications": ("id", "uid", "name", "rate_limit", "meta", "kind", "created_at", "updated_at"),
    "endpoints": (
        "id",
        "app_id",
        "uid",
        "url",
        "description",
        "version",
        "disabled",
        "filter_types",
        "channels",
        "rate_limit",
        "meta",
        "headers",
        "secret",
        "old_secrets",
        "created_at",
        "updated_at",
    ),
    "messages": (
        "id",
        "app_id",
        "event_type",
        "event_id",
        "channels",
        "tags",
        "payload",
        "content_type",
        "headers",
        "created_at",
        "payload_expires_at",
    ),
    "deliveries": (
        "id",
        "msg_id",
        "endpoint_id",
        "app_id",
        "status",
        "attempts",
        "next_attempt_at",
        "lease_until",
        "manual",
        "created_at",
        "updated_at",
    ),
    "attempts": (
        "id",
        "msg_id",
        "endpoint_id",
        "app_id",
        "url",
        "status",
        "response_status_code",
        "response",
        "response_duration_ms",
        "trigger_type",
        "attempt_number",
        "created_at",
    ),
}


async def load(url: str, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    conn = await asyncpg.connect(url)
    try:
        for table, records in rows.items():
            await conn.copy_records_to_table(table, records=records, columns=COLUMNS[table])
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


# A worker's defaults: HOOKD_CONCURRENCY 256, half for failing endpoints, 16 per endpoint.
CLAIM_LIMITS = scheduling.Limits(budget=256, failing_budget=128, per_endpoint=16)


async def mark_endpoints_ready(url: str) -> None:
    """Rows loaded with COPY bypass the scheduler: mark their endpoints as a worker start does."""
    db = Database(url)
    try:
        async with db.write() as conn:
            await scheduling.rebuild_ready(conn)
    finally:
        await db.close()


def hot_queries(rows: dict[str, list[tuple[Any, ...]]], now: datetime) -> dict[str, Step]:
    """What the worker, the API and the pruner run most, as calls of hookd's store functions."""
    now_ms = to_ms(now)
    app, ep = rows["applications"][7][0], rows["endpoints"][7][0]
    app_msgs = [m[0] for m in rows["messages"] if m[1] == app]
    middle = app_msgs[len(app_msgs) // 2]
    claimed = [m[0] for m in rows["messages"][-256:]]
    cut = ids.floor_id(ids.MESSAGE, now - timedelta(days=90))
    page = {"limit": 50, "before_id": None, "after_id": None}
    return {
        # The worker runs these synchronously (Database.run_write).
        "claim due deliveries (worker, 256 at a time)": lambda c: c.run_sync(
            scheduling.claim, now, now + timedelta(seconds=60), CLAIM_LIMITS
        ),
        "next ready endpoint (worker, when idle)": lambda c: c.run_sync(
            lambda sync: scheduling.next_ready_ms(sync, healthy_only=False)
        ),
        "reclaim expired leases (worker)": lambda c: deliveries.reclaim_expired(c, now_ms),
        "load the claimed messages (worker)": lambda c: messages.messages_by_id(c, claimed),
        "list messages of an app, first page": lambda c: messages.list_messages(
            c, app, iterator=None, event_types=None, channel=None, **page
        ),
        "list messages of an app, with an iterator": lambda c: messages.list_messages(
            c, app, iterator=middle, event_types=None, channel=None, **page
        ),
        "list attempts by endpoint": lambda c: attempts.list_attempts(
            c, app, iterator=None, endpoint_id=ep, **page
        ),
        "list attempts by message": lambda c: attempts.list_attempts(
            c, app, iterator=None, msg_id=middle, **page
        ),
        "prune: expunge expired payloads (1,000)": lambda c: retention.expunge_payloads(
            c, now_ms, 1000
        ),
        "prune: delete messages older than 90 days (1,000)": lambda c: retention.delete_messages(
            c, cut, 1000
        ),
    }


MAX_SQL_CHARS = 1200


def shorten(statement: str) -> str:
    """One line; long parameter lists (``IN ($1, ..., $256)``) shown by their ends."""
    flat = " ".join(statement.split())
    flat = re.sub(r"(\$\d+::\w+), (?:\$\d+::\w+, )+(\$\d+::\w+)", r"\1, ..., \2", flat)
    if len(flat) > MAX_SQL_CHARS:
        # The claim unions one subquery per ready endpoint: show the first and the end.
        flat = flat[: MAX_SQL_CHARS // 2] + " ... " + flat[-MAX_SQL_CHARS // 4 :]
    return flat


def shorten_array(line: str) -> str:
    """A plan line with a long literal array (``'{a,b,...}'::text[]``) shown by its ends."""
    return re.sub(r"'\{([^,}]+),[^}]*,([^,}]+)\}'", r"'{\1, ..., \2}'", line)


async def explain_all(url: str, queries: dict[str, Step]) -> None:
    db = Database(url)
    captured: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        if not statement.startswith("EXPLAIN"):
            captured.append((statement, params))

    event.listen(db.writer.sync_engine, "before_cursor_execute", capture)
    try:
        for title, step in queries.items():
            captured.clear()
            async with db.writer.connect() as conn:
                async with conn.begin() as tx:
                    await step(conn)
                    await tx.rollback()
                for number, (statement, many) in enumerate(list(captured), 1):
                    # An executemany (a list of parameter sets) is explained for its first set.
                    params = many[0] if isinstance(many, list) and many else many
                    async with conn.begin() as tx:
                        plan = await conn.exec_driver_sql(
                            f"EXPLAIN (ANALYZE, COSTS OFF, BUFFERS OFF) {statement}", params
                        )
                        lines = [shorten_array(row[0]) for row in plan]
                        await tx.rollback()
                    part = f", statement {number} of {len(captured)}" if len(captured) > 1 else ""
                    print(f"### {title}{part}\n")
                    print("```sql\n" + shorten(statement) + "\n```\n```")
                    print("\n".join(lines) + "\n```\n")
    finally:
        await db.close()


async def main(count: int, admin_url: str, keep: bool) -> None:
    name = f"hookd_plans_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rpartition("/")[0] + f"/{name}"
    try:
        subprocess.run(
            [sys.executable, "-m", "hookd", "migrate", "--database-url", url],
            check=True,
            capture_output=True,
        )
        now = datetime.now(UTC)
        started = time.perf_counter()
        rows = build_rows(count, now)
        await load(url, rows)
        await mark_endpoints_ready(url)
        print(f"<!-- {count:,} messages loaded in {time.perf_counter() - started:.0f} s -->\n")
        await explain_all(url, hot_queries(rows, now))
    finally:
        if keep:
            print(f"kept database {url}", file=sys.stderr)
        else:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="messages to build")
    parser.add_argument("--admin-url", default=ADMIN_URL, help="where to create the database")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.admin_url, args.keep))
