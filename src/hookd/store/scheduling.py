"""The scheduler's per-endpoint state: which endpoints are ready, fair claims, health, buckets.

Every change that makes a delivery due calls :func:`mark_ready`, so ``ready_at`` is never later
than an endpoint's earliest due delivery; a claim round reads only ready endpoints (never the
backlog), takes each one's oldest due deliveries within its limits, and moves ``ready_at`` on.
On PostgreSQL the endpoint rows are locked ``FOR UPDATE SKIP LOCKED``, so several workers never
claim for the same endpoint at once and its in-flight limit holds across them.

With the Redis queue index, :func:`mark_ready` also records what it marked in the transaction
(``Database.on_ready`` passes it to Redis after the commit), and a claim round may be limited to
the endpoints Redis handed the worker.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, bindparam, func, or_, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from hookd.core.domain import Claim, DeliveryStatus
from hookd.core.payloads.batch import DEFAULT_MAX_WAIT_MS, is_batched, wait_until
from hookd.core.ratelimit import TokenBucket
from hookd.core.scheduling import (
    EndpointGate,
    Opening,
    opening,
    ready_after,
    share_budget,
    spend,
)
from hookd.store.arrays import in_list
from hookd.store.codec import from_ms, opt_from_ms, to_ms
from hookd.store.db import READY_KEY
from hookd.store.endpoint_health import health_from_row, update_rows
from hookd.store.schema import applications, deliveries, endpoint_state, endpoints

state, delivery, endpoint, app = endpoint_state.c, deliveries.c, endpoints.c, applications.c
PENDING, SENDING = int(DeliveryStatus.PENDING), int(DeliveryStatus.SENDING)
# SQLite allows 500 terms in a compound SELECT; one claim round unions one per endpoint.
MAX_ENDPOINTS_PER_ROUND = 200


@dataclass(frozen=True, slots=True)
class Limits:
    """A claim round's budgets."""

    budget: int  # free slots in this worker
    failing_budget: int  # of which failing endpoints may use at most this many
    per_endpoint: int  # in-flight cap per endpoint, across workers


async def mark_ready(conn: AsyncConnection, due: Mapping[str, int]) -> None:
    """Endpoints that have (or may have) work due at the given ms: lower their ``ready_at``."""
    if due:
        await conn.execute(*_mark_ready(conn, due))


def mark_ready_sync(conn: Connection, due: Mapping[str, int]) -> None:
    """:func:`mark_ready` on a synchronous connection (the group-committed create path)."""
    if due:
        conn.execute(*_mark_ready(conn, due))


def _note_ready(conn: AsyncConnection | Connection, due: Mapping[str, int]) -> None:
    """Collect ``due`` for the post-commit hook, when the transaction collects (see db.py)."""
    collected: dict[str, int] | None = conn.info.get(READY_KEY)
    if collected is None:
        return
    for endpoint_id, at in due.items():
        if endpoint_id not in collected or at < collected[endpoint_id]:
            collected[endpoint_id] = at


def _mark_ready(
    conn: AsyncConnection | Connection, due: Mapping[str, int]
) -> tuple[Any, list[dict[str, Any]]]:
    _note_ready(conn, due)
    # Sorted, so concurrent transactions lock endpoint rows in one order (no deadlocks).
    rows = [{"endpoint_id": key, "ready_at": due[key]} for key in sorted(due)]
    return _mark_ready_statement(conn.dialect.name), rows


# The upserts run on every create and flush: built once per dialect, as building a statement
# costs more than running it.


@lru_cache(maxsize=4)
def _mark_ready_statement(dialect: str) -> Any:
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(endpoint_state)
    # Only rows that get earlier are written (an already-ready endpoint costs no new row version).
    return stmt.on_conflict_do_update(
        index_elements=[state.endpoint_id],
        set_={"ready_at": stmt.excluded.ready_at},
        where=or_(state.ready_at.is_(None), state.ready_at > stmt.excluded.ready_at),
    )


@lru_cache(maxsize=4)
def _mark_served_statement(dialect: str) -> Any:
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(endpoint_state)
    return stmt.on_conflict_do_update(
        index_elements=[state.endpoint_id], set_={"served_at": stmt.excluded.served_at}
    )


def mark_served_sync(conn: Connection, endpoint_ids: Iterable[str], now_ms: int) -> None:
    """Deliveries of these endpoints started outside a claim round (the create's direct
    hand-off): ``served_at`` moves on as a claim would move it, so the round-robin order
    stays fair, and the state row exists for health updates."""
    rows = [{"endpoint_id": key, "served_at": now_ms} for key in sorted(set(endpoint_ids))]
    if rows:
        conn.execute(_mark_served_statement(conn.dialect.name), rows)


def earliest(pairs: Iterable[tuple[str, int]]) -> dict[str, int]:
    """The earliest due time per endpoint from (endpoint_id, due_ms) pairs."""
    result: dict[str, int] = {}
    for endpoint_id, due_ms in pairs:
        if endpoint_id not in result or due_ms < result[endpoint_id]:
            result[endpoint_id] = due_ms
    return result


async def rebuild_ready(conn: AsyncConnection) -> None:
    """Mark every endpoint with pending deliveries (rows written without :func:`mark_ready`)."""
    query = (
        select(delivery.endpoint_id, func.min(delivery.next_attempt_at))
        .where(delivery.status == PENDING)
        .group_by(delivery.endpoint_id)
    )
    await mark_ready(conn, {row[0]: row[1] for row in (await conn.execute(query)).all()})


def _bucket(row: Any) -> TokenBucket | None:
    if row.tokens is None or row.tokens_at is None:
        return None
    return TokenBucket(row.tokens, from_ms(row.tokens_at))


def _ready_rows(
    conn: Connection, now_ms: int, limit: int, healthy_only: bool, only: Collection[str] | None
) -> list[Any]:
    query = _ready_statement(conn.dialect.name, healthy_only, only is not None)
    params: dict[str, Any] = {"now": now_ms, "limit": limit}
    if only is not None:
        params["only"] = sorted(only)
    return list(conn.execute(query, params).all())


@lru_cache(maxsize=16)
def _ready_statement(dialect: str, healthy_only: bool, limited: bool) -> Any:
    """Built once per shape: every claim round runs one (on PostgreSQL one statement text,
    prepared once per connection, whatever ``only`` holds)."""
    sending = (
        select(func.count())
        .where(delivery.endpoint_id == state.endpoint_id, delivery.status == SENDING)
        .scalar_subquery()
        .label("in_flight")
    )
    # An application's rate limit applies to each of its endpoints without one of their own.
    rate_limit = func.coalesce(endpoint.rate_limit, app.rate_limit).label("rate_limit")
    query = (
        select(
            endpoint_state,
            endpoint.fifo,
            rate_limit,
            endpoint.batch_size,
            endpoint.batch_max_wait_ms,
            sending,
        )
        .join(endpoints, endpoint.id == state.endpoint_id)
        .join(applications, app.id == endpoint.app_id)
        .where(state.ready_at <= bindparam("now"))
        .order_by(state.served_at, state.endpoint_id)
        .limit(bindparam("limit", type_=Integer))
    )
    if healthy_only:
        query = query.where(state.failures == 0)
    if limited:
        query = query.where(in_list(state.endpoint_id, "only", dialect))
    if dialect == "postgresql":
        query = query.with_for_update(skip_locked=True, of=endpoint_state)
    return query


# Claim and next-due statements are built once per shape (which picks are FIFO) and cached:
# building SQLAlchemy statements per round costs more than running them.


def _fifo_head(endpoint_id: Any) -> Any:
    return (
        select(func.min(delivery.msg_id))
        .where(delivery.endpoint_id == endpoint_id, delivery.status == PENDING)
        .scalar_subquery()
    )


def _union(parts: list[Select[Any]]) -> Any:
    return parts[0] if len(parts) == 1 else union_all(*[p.subquery().select() for p in parts])


def _due_ids(i: int, fifo: bool) -> Select[Any]:
    """Pick ``i``'s oldest due deliveries (``n_i`` of them); FIFO: its oldest message, if due."""
    endpoint_id: Any = bindparam(f"ep_{i}")
    query = select(delivery.id).where(
        delivery.endpoint_id == endpoint_id,
        delivery.status == PENDING,
        delivery.next_attempt_at <= bindparam("now"),
    )
    if fifo:
        return query.where(delivery.msg_id == _fifo_head(endpoint_id)).limit(1)
    # Index order only (ties in insertion order): a tie-breaker column would make SQLite sort
    # every due row of the endpoint.
    return query.order_by(delivery.next_attempt_at).limit(bindparam(f"n_{i}", type_=Integer))


@lru_cache(maxsize=128)
def _take_statement(fifo: tuple[bool, ...]) -> Any:
    ids = _union([_due_ids(i, f) for i, f in enumerate(fifo)])
    return (
        update(deliveries)
        .where(delivery.id.in_(ids.scalar_subquery()), delivery.status == PENDING)
        .values(status=SENDING, lease_until=bindparam("lease"), updated_at=bindparam("now"))
        .returning(
            delivery.id,
            delivery.msg_id,
            delivery.endpoint_id,
            delivery.app_id,
            delivery.attempts,
            delivery.manual,
        )
    )


def _take(
    conn: Connection, picks: list[tuple[Any, int]], now_ms: int, lease_ms: int
) -> list[Claim]:
    params: dict[str, Any] = {"now": now_ms, "lease": lease_ms}
    for i, (row, n) in enumerate(picks):
        params[f"ep_{i}"], params[f"n_{i}"] = row.endpoint_id, n
    query = _take_statement(tuple(bool(row.fifo) for row, _ in picks))
    failing = {row.endpoint_id for row, _ in picks if row.failures}
    rows = conn.execute(query, params).all()
    return [
        Claim(
            r.id,
            r.msg_id,
            r.endpoint_id,
            r.app_id,
            r.attempts,
            bool(r.manual),
            r.endpoint_id in failing,
        )
        for r in sorted(rows, key=lambda r: (r.endpoint_id, r.msg_id))
    ]


def _next_due_of(i: int, fifo: bool) -> Select[Any]:
    endpoint_id: Any = bindparam(f"ep_{i}")
    query = select(delivery.endpoint_id, delivery.next_attempt_at)
    if fifo:
        return query.where(
            delivery.endpoint_id == endpoint_id, delivery.msg_id == _fifo_head(endpoint_id)
        )
    return (
        query.where(delivery.endpoint_id == endpoint_id, delivery.status == PENDING)
        .order_by(delivery.next_attempt_at)
        .limit(1)
    )


@lru_cache(maxsize=128)
def _next_due_statement(fifo: tuple[bool, ...]) -> Any:
    return _union([_next_due_of(i, f) for i, f in enumerate(fifo)])


def _next_due(conn: Connection, rows: list[Any]) -> dict[str, int]:
    """When each endpoint's next delivery is due (FIFO: its oldest message): one probe each."""
    query = _next_due_statement(tuple(bool(row.fifo) for row in rows))
    params = {f"ep_{i}": row.endpoint_id for i, row in enumerate(rows)}
    return {r[0]: r[1] for r in conn.execute(query, params).all() if r[1] is not None}


def _gate(row: Any, limits: Limits) -> EndpointGate:
    batched = is_batched(row.batch_size, bool(row.fifo))
    return EndpointGate(
        limit=row.batch_size if batched else 1 if row.fifo else limits.per_endpoint,
        in_flight=row.in_flight,  # sending now, by every worker
        health=health_from_row(row),
        rate=row.rate_limit,
        bucket=_bucket(row) if row.rate_limit else None,
        batched=batched,
    )


def _hold_partial_batch(conn: Connection, row: Any, op: Opening, now: datetime) -> Opening:
    """A batch endpoint with fewer due than a batch waits until its oldest due one has waited
    ``batch_max_wait_ms``."""
    due = (
        select(delivery.next_attempt_at)
        .where(
            delivery.endpoint_id == row.endpoint_id,
            delivery.status == PENDING,
            delivery.next_attempt_at <= to_ms(now),
        )
        .order_by(delivery.next_attempt_at)
        .limit(row.batch_size)
        .subquery()
    )
    count, oldest = conn.execute(select(func.count(), func.min(due.c.next_attempt_at))).one()
    max_wait = DEFAULT_MAX_WAIT_MS if row.batch_max_wait_ms is None else row.batch_max_wait_ms
    until = wait_until(count, opt_from_ms(oldest), row.batch_size, max_wait, now)
    return op if until is None else Opening(0, until, op.bucket)


def claim(
    conn: Connection,
    now: datetime,
    lease_until: datetime,
    limits: Limits,
    only: Collection[str] | None = None,
) -> list[Claim]:
    """One claim round: ready endpoints in round-robin order share the budget fairly.

    Synchronous: the worker runs it with ``Database.run_write`` (on SQLite, one synchronous
    transaction for the whole round). ``only``: look at these endpoints alone (those the
    Redis queue index says are due).
    """
    now_ms = to_ms(now)
    healthy_only = limits.failing_budget <= 0
    count = min(limits.budget, MAX_ENDPOINTS_PER_ROUND)
    rows = _ready_rows(conn, now_ms, count, healthy_only, only)
    if not rows:
        return []
    gates = [_gate(row, limits) for row in rows]
    openings = [opening(gate, now) for gate in gates]
    for i, row in enumerate(rows):
        if gates[i].batched and openings[i].wants > 0:
            openings[i] = _hold_partial_batch(conn, row, openings[i], now)
    grants = share_budget(
        [o.wants for o in openings],
        [bool(row.failures) for row in rows],
        limits.budget,
        limits.failing_budget,
    )
    picks = [(row, n) for row, n in zip(rows, grants, strict=True) if n > 0]
    claims = _take(conn, picks, now_ms, to_ms(lease_until)) if picks else []
    got: dict[str, int] = {}
    for c in claims:
        got[c.endpoint_id] = got.get(c.endpoint_id, 0) + 1
    short = [row for row, n in zip(rows, grants, strict=True) if got.get(row.endpoint_id, 0) < n]
    next_due = _next_due(conn, short) if short else {}
    updates = [
        _after_round(row, gate, op, grant, got.get(row.endpoint_id, 0), next_due, now)
        for row, gate, op, grant in zip(rows, gates, openings, grants, strict=True)
        if not (op.wants > 0 and grant == 0)  # its turn did not come: keep its place
    ]
    _save_rounds(conn, updates)
    return claims


def _after_round(
    row: Any,
    gate: EndpointGate,
    op: Opening,
    grant: int,
    taken: int,
    next_due: Mapping[str, int],
    now: datetime,
) -> dict[str, Any]:
    """The endpoint's new ``ready_at``, ``served_at`` and bucket after a round."""
    due = next_due.get(row.endpoint_id)
    ready = ready_after(gate, op, taken, short=taken < grant, next_due=opt_from_ms(due), now=now)
    bucket = spend(op, taken)
    return {
        "b_id": row.endpoint_id,
        "b_ready": None if ready is None else to_ms(ready),
        "b_served": to_ms(now) if taken else row.served_at,
        "b_tokens": None if bucket is None else bucket.tokens,
        "b_tokens_at": None if bucket is None else to_ms(bucket.at),
    }


def _save_rounds(conn: Connection, updates: list[dict[str, Any]]) -> None:
    columns = {"ready_at": "b_ready", "served_at": "b_served"}
    update_rows(conn, {**columns, "tokens": "b_tokens", "tokens_at": "b_tokens_at"}, updates)


def next_ready_ms(conn: Connection, *, healthy_only: bool) -> int | None:
    """When the earliest endpoint becomes ready (for the worker's sleep)."""
    query = select(func.min(state.ready_at))
    if healthy_only:
        query = query.where(state.failures == 0)
    ready: int | None = conn.execute(query).scalar()
    return ready
