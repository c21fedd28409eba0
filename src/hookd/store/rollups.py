"""Rolled-up counters (``core.rollups``): written as upserts in the transactions that record the
facts, read as sums over minutes.

Writing: one ``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n`` per transaction, one
row per (endpoint, minute) or (source, minute) it touched, sorted (one lock order on
PostgreSQL). Reading: sums over the minutes of a range, through the primary key (one endpoint
or source) or the ``minute`` indexes (every one); never a count over attempts or requests.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table, delete, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.core.rollups import (
    ATTEMPT_COUNTERS,
    REQUEST_COUNTERS,
    AttemptFact,
    attempt_rows,
    request_rows,
)
from hookd.store.deliveries import Finish
from hookd.store.schema import endpoint_rollups, source_rollups
from hookd.store.sqlite.statements import execute_many

er, sr = endpoint_rollups.c, source_rollups.c

Row = dict[str, Any]


@lru_cache(maxsize=8)
def _upsert(table_name: str, dialect: str) -> Any:
    """Built once per table and dialect: every flush and ingest group runs one."""
    table: Table = endpoint_rollups if table_name == "endpoint_rollups" else source_rollups
    counters = ATTEMPT_COUNTERS if table is endpoint_rollups else REQUEST_COUNTERS
    keys = ["endpoint_id", "minute"] if table is endpoint_rollups else ["source_id", "minute"]
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return stmt.on_conflict_do_update(
        index_elements=keys,
        set_={name: table.c[name] + stmt.excluded[name] for name in counters},
    )


def attempt_fact(finish: Finish) -> AttemptFact:
    """What a finished delivery's attempt adds to the counters (the worker's flush)."""
    fact = attempt_row_fact(finish.attempt_row)
    return replace(fact, transform_failed=True) if finish.transform_failed else fact


def attempt_row_fact(row: Row) -> AttemptFact:
    """What an attempt row (``attempts.attempt_row``) adds to the counters."""
    return AttemptFact(
        endpoint_id=row["endpoint_id"],
        app_id=row["app_id"],
        at_ms=row["created_at"],
        status=row["status"],
        response_status_code=row["response_status_code"],
        attempt_number=row["attempt_number"],
    )


def add_attempts(conn: Connection, facts: Iterable[AttemptFact]) -> None:
    """Count attempts on their endpoints' minutes (the worker's flush)."""
    rows = attempt_rows(facts)
    if rows:
        execute_many(conn, _upsert("endpoint_rollups", conn.dialect.name), rows)


async def add_attempts_async(conn: AsyncConnection, facts: Iterable[AttemptFact]) -> None:
    """``add_attempts`` in an async transaction (a synchronous call's attempt)."""
    rows = attempt_rows(facts)
    if rows:
        await conn.execute(_upsert("endpoint_rollups", conn.dialect.name), rows)


def add_requests(conn: Connection, facts: Iterable[tuple[str, int, str]]) -> None:
    """Count inbound requests by outcome on their sources' minutes (the ingest group commit)."""
    rows = request_rows(facts)
    if rows:
        execute_many(conn, _upsert("source_rollups", conn.dialect.name), rows)


def _sums(counters: Sequence[str], table: Table) -> list[Any]:
    return [func.coalesce(func.sum(table.c[name]), 0).label(name) for name in counters]


async def endpoint_sums(
    conn: AsyncConnection,
    since_ms: int,
    until_ms: int,
    *,
    endpoint_ids: Collection[str] | None = None,
    app_id: str | None = None,
    counters: Sequence[str] = ATTEMPT_COUNTERS,
) -> dict[str, Row]:
    """Each endpoint's counters summed over the minutes in [since, until), with its
    application; only endpoints with a row in the range, narrowed to ``endpoint_ids`` or
    ``app_id`` when given."""
    query = (
        select(
            er.endpoint_id, func.max(er.app_id).label("app_id"), *_sums(counters, endpoint_rollups)
        )
        .where(er.minute >= since_ms, er.minute < until_ms)
        .group_by(er.endpoint_id)
    )
    if endpoint_ids is not None:
        query = query.where(er.endpoint_id.in_(sorted(endpoint_ids)))
    if app_id is not None:
        query = query.where(er.app_id == app_id)
    rows = (await conn.execute(query)).all()
    return {row.endpoint_id: dict(row._mapping) for row in rows}


async def source_sums(
    conn: AsyncConnection,
    since_ms: int,
    until_ms: int,
    *,
    source_id: str | None = None,
) -> dict[str, Row]:
    """Each source's counters summed over the minutes in [since, until)."""
    query = (
        select(sr.source_id, *_sums(REQUEST_COUNTERS, source_rollups))
        .where(sr.minute >= since_ms, sr.minute < until_ms)
        .group_by(sr.source_id)
    )
    if source_id is not None:
        query = query.where(sr.source_id == source_id)
    rows = (await conn.execute(query)).all()
    return {row.source_id: dict(row._mapping) for row in rows}


async def endpoint_series(
    conn: AsyncConnection, endpoint_id: str, since_ms: int, until_ms: int, interval_ms: int
) -> dict[int, Row]:
    """One endpoint's counters per interval (by the interval's start) over [since, until)."""
    bucket = (er.minute // interval_ms * interval_ms).label("bucket")
    query = (
        select(bucket, *_sums(ATTEMPT_COUNTERS, endpoint_rollups))
        .where(er.endpoint_id == endpoint_id, er.minute >= since_ms, er.minute < until_ms)
        .group_by(bucket)
    )
    rows = (await conn.execute(query)).all()
    return {int(row.bucket): dict(row._mapping) for row in rows}


async def source_series(
    conn: AsyncConnection, source_id: str, since_ms: int, until_ms: int, interval_ms: int
) -> dict[int, Row]:
    """One source's counters per interval (by the interval's start) over [since, until)."""
    bucket = (sr.minute // interval_ms * interval_ms).label("bucket")
    query = (
        select(bucket, *_sums(REQUEST_COUNTERS, source_rollups))
        .where(sr.source_id == source_id, sr.minute >= since_ms, sr.minute < until_ms)
        .group_by(bucket)
    )
    rows = (await conn.execute(query)).all()
    return {int(row.bucket): dict(row._mapping) for row in rows}


async def all_endpoints_series(
    conn: AsyncConnection, since_ms: int, until_ms: int, interval_ms: int
) -> dict[int, Row]:
    """Every endpoint's counters together per interval (by its start) over [since, until)."""
    bucket = (er.minute // interval_ms * interval_ms).label("bucket")
    query = (
        select(bucket, *_sums(ATTEMPT_COUNTERS, endpoint_rollups))
        .where(er.minute >= since_ms, er.minute < until_ms)
        .group_by(bucket)
    )
    rows = (await conn.execute(query)).all()
    return {int(row.bucket): dict(row._mapping) for row in rows}


async def all_sources_series(
    conn: AsyncConnection, since_ms: int, until_ms: int, interval_ms: int
) -> dict[int, Row]:
    """Every source's counters together per interval (by its start) over [since, until)."""
    bucket = (sr.minute // interval_ms * interval_ms).label("bucket")
    query = (
        select(bucket, *_sums(REQUEST_COUNTERS, source_rollups))
        .where(sr.minute >= since_ms, sr.minute < until_ms)
        .group_by(bucket)
    )
    rows = (await conn.execute(query)).all()
    return {int(row.bucket): dict(row._mapping) for row in rows}


async def endpoints_outcomes(
    conn: AsyncConnection,
    endpoint_ids: Collection[str],
    since_ms: int,
    until_ms: int,
    interval_ms: int,
) -> dict[str, dict[int, tuple[int, int]]]:
    """(success, fail) per endpoint and interval over [since, until), for the endpoints named:
    one query for them all (a list page's sparklines)."""
    if not endpoint_ids:
        return {}
    bucket = (er.minute // interval_ms * interval_ms).label("bucket")
    query = (
        select(
            er.endpoint_id,
            bucket,
            func.coalesce(func.sum(er.success), 0).label("success"),
            func.coalesce(func.sum(er.fail), 0).label("fail"),
        )
        .where(
            er.endpoint_id.in_(sorted(endpoint_ids)),
            er.minute >= since_ms,
            er.minute < until_ms,
        )
        .group_by(er.endpoint_id, bucket)
    )
    found: dict[str, dict[int, tuple[int, int]]] = {}
    for row in (await conn.execute(query)).all():
        found.setdefault(row.endpoint_id, {})[int(row.bucket)] = (int(row.success), int(row.fail))
    return found


async def destinations_by_app(
    conn: AsyncConnection, since_ms: int, until_ms: int, app_ids: Collection[str] | None
) -> dict[str, int]:
    """Messages sent to endpoints (first attempts) per application over [since, until)."""
    query = (
        select(er.app_id, func.coalesce(func.sum(er.destinations), 0).label("n"))
        .where(er.minute >= since_ms, er.minute < until_ms)
        .group_by(er.app_id)
    )
    if app_ids is not None:
        query = query.where(er.app_id.in_(sorted(app_ids)))
    return {row.app_id: int(row.n) for row in (await conn.execute(query)).all()}


async def delete_before(conn: AsyncConnection, minute_ms: int, limit: int) -> int:
    """Delete up to ``limit`` rows of each counter table older than ``minute_ms``; how many."""
    deleted = 0
    for table, key in ((endpoint_rollups, er.endpoint_id), (source_rollups, sr.source_id)):
        old = (
            select(key, table.c.minute)
            .where(table.c.minute < minute_ms)
            .order_by(table.c.minute)
            .limit(limit)
        )
        result = await conn.execute(delete(table).where(tuple_(key, table.c.minute).in_(old)))
        deleted += int(result.rowcount)
    return deleted


async def count_before(conn: AsyncConnection, minute_ms: int) -> int:
    total = 0
    for table in (endpoint_rollups, source_rollups):
        query = select(func.count()).select_from(table).where(table.c.minute < minute_ms)
        total += int((await conn.execute(query)).scalar_one())
    return total
