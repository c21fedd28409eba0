"""The delivery queue: one row per (message, endpoint), claimed in batches by the worker.

Claims are made per endpoint by :mod:`hookd.store.scheduling`: they move rows from PENDING to
SENDING with a lease; finishing writes every attempt of a batch and the new states in one
transaction; a lease that runs out (a dead worker) puts the row back. Whatever makes a delivery
due also marks its endpoint ready (``mark_ready``), which is how the scheduler finds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    SmallInteger,
    String,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.core.domain import Claim, DeliveryStatus, MessageDelivery
from hookd.store.arrays import any_of, array_param, in_list
from hookd.store.codec import from_ms, opt_from_ms
from hookd.store.endpoint_health import probe_now
from hookd.store.row_inserts import insert_many
from hookd.store.scheduling import earliest, mark_ready, mark_ready_sync
from hookd.store.schema import attempts, deliveries, endpoints
from hookd.store.sqlite.statements import execute_many, select_rows

__all__ = ["Claim", "Finish"]

delivery, endpoint = deliveries.c, endpoints.c
PENDING, SENDING = int(DeliveryStatus.PENDING), int(DeliveryStatus.SENDING)


@dataclass(frozen=True, slots=True)
class Finish:
    """What to write when a claimed delivery's attempt is over."""

    delivery_id: str
    status: DeliveryStatus
    attempts: int
    next_attempt_ms: int | None
    attempt_row: dict[str, Any]
    # The endpoint's transformation failed (no request was sent): counted apart in the rollups.
    transform_failed: bool = False


def new_delivery_rows(
    ids: list[str],
    msg_id: str,
    app_id: str,
    endpoint_ids: list[str],
    now_ms: int,
    *,
    due_ms: int | None = None,
) -> list[dict[str, Any]]:
    """Pending deliveries, due at once or at ``due_ms`` (a scheduled message)."""
    return [
        {
            "id": delivery_id,
            "msg_id": msg_id,
            "endpoint_id": endpoint_id,
            "app_id": app_id,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now_ms if due_ms is None else due_ms,
            "lease_until": None,
            "manual": False,
            "created_at": now_ms,
            "updated_at": now_ms,
        }
        for delivery_id, endpoint_id in zip(ids, endpoint_ids, strict=True)
    ]


async def insert_deliveries(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(insert(deliveries), rows)
        await mark_ready(conn, earliest((r["endpoint_id"], r["next_attempt_at"]) for r in rows))


def finish(conn: Connection, finished: list[Finish], now_ms: int) -> bool:
    """Record a batch of attempts and their deliveries' new states; True if that made an
    endpoint with queued deliveries ready (a claim round may find work).

    Synchronous: the worker's flush runs it with ``Database.run_write`` (on SQLite, one
    synchronous transaction).

    A delivery whose message or endpoint was deleted while its attempt ran is gone (deleted with
    them); its attempt is dropped, as its references would fail and take the batch with them.
    """
    live = _locked_ids(conn, [f.delivery_id for f in finished])
    finished = [f for f in finished if f.delivery_id in live]
    if not finished:
        return False
    insert_many(conn, attempts, [f.attempt_row for f in finished])  # PostgreSQL: as arrays
    if conn.dialect.name == "postgresql":
        # One statement, whatever the batch's size: arrays, one value per row.
        conn.execute(
            _FINISH_PG,
            {
                "ids": [f.delivery_id for f in finished],
                "statuses": [int(f.status) for f in finished],
                "attempts": [f.attempts for f in finished],
                "nexts": [f.next_attempt_ms for f in finished],
                "now": now_ms,
            },
        )
    else:
        execute_many(
            conn,
            _FINISH,
            [
                {
                    "b_id": f.delivery_id,
                    "b_status": int(f.status),
                    "b_attempts": f.attempts,
                    "b_next": f.next_attempt_ms,
                    "b_now": now_ms,
                }
                for f in finished
            ],
        )
    # A slot of each endpoint freed up (and a retry may be due): the scheduler looks again at
    # those with queued deliveries, from the earliest one's due time. An endpoint with none
    # (the usual case when keeping up) needs no claim round. After the delivery rows, as
    # reclaim_expired does: one lock order on PostgreSQL.
    due = _earliest_queued(conn, {f.attempt_row["endpoint_id"] for f in finished})
    mark_ready_sync(conn, due)
    return bool(due)


# Built once: every flush runs it.
_FINISH = (
    update(deliveries)
    .where(and_(delivery.id == bindparam("b_id"), delivery.status == SENDING))
    .values(
        status=bindparam("b_status"),
        attempts=bindparam("b_attempts"),
        next_attempt_at=bindparam("b_next"),
        lease_until=None,
        manual=False,
        updated_at=bindparam("b_now"),
    )
)


# PostgreSQL: every finished delivery of a flush in one UPDATE over arrays (``_FINISH`` once
# per row otherwise).
def _finish_pg_statement() -> Any:
    rows = (
        func.unnest(
            array_param("ids", String),
            array_param("statuses", SmallInteger),
            array_param("attempts", Integer),
            array_param("nexts", BigInteger),
        )
        .table_valued("id", "status", "attempts", "next")
        .render_derived(name="u")
    )
    return (
        update(deliveries)
        .where(delivery.id == rows.c.id, delivery.status == SENDING)
        .values(
            status=rows.c.status,
            attempts=rows.c.attempts,
            next_attempt_at=rows.c.next,
            lease_until=None,
            manual=False,
            updated_at=bindparam("now", type_=BigInteger),
        )
    )


_FINISH_PG = _finish_pg_statement()


def _earliest_queued(conn: Connection, endpoint_ids: set[str]) -> dict[str, int]:
    """Each endpoint's earliest pending delivery's due time (endpoints with none left out)."""
    pg = conn.dialect.name == "postgresql"
    statement = _EARLIEST_QUEUED_PG if pg else _EARLIEST_QUEUED
    rows = select_rows(conn, statement, {"ids": sorted(endpoint_ids)})
    return {row[0]: row[1] for row in rows if row[1] is not None}


def _earliest_queued_statement(dialect: str) -> Any:
    earliest_due = (
        select(delivery.next_attempt_at)
        .where(delivery.endpoint_id == endpoint.id, delivery.status == PENDING)
        .order_by(delivery.next_attempt_at)
        .limit(1)
        .scalar_subquery()
    )
    return select(endpoint.id, earliest_due).where(in_list(endpoint.id, "ids", dialect))


# Built once: every flush runs it.
_EARLIEST_QUEUED = _earliest_queued_statement("sqlite")
_EARLIEST_QUEUED_PG = _earliest_queued_statement("postgresql")


def _locked_ids(conn: Connection, ids: list[str]) -> set[str]:
    """Which of these deliveries still exist, locked (PostgreSQL) until the transaction ends."""
    if not ids:
        return set()
    statement = _LOCKED_IDS_PG if conn.dialect.name == "postgresql" else _LOCKED_IDS
    return {row[0] for row in select_rows(conn, statement, {"ids": ids})}


_LOCKED_IDS = (
    select(delivery.id).where(delivery.id.in_(bindparam("ids", expanding=True))).with_for_update()
)
_LOCKED_IDS_PG = select(delivery.id).where(any_of(delivery.id, "ids")).with_for_update()


async def release(conn: AsyncConnection, ids: list[str], now_ms: int) -> None:
    """Hand claimed deliveries back untouched (shutdown): due now, no attempt counted."""
    if ids:
        result = await conn.execute(
            update(deliveries)
            .where(delivery.id.in_(ids), delivery.status == SENDING)
            .values(status=PENDING, lease_until=None, next_attempt_at=now_ms, updated_at=now_ms)
            .returning(delivery.endpoint_id)
        )
        await mark_ready(conn, {row[0]: now_ms for row in result.all()})


async def earliest_lease(conn: AsyncConnection) -> int | None:
    """When the first lease of a claimed delivery runs out (ms), or None (nothing claimed)."""
    result = await conn.execute(
        select(func.min(delivery.lease_until)).where(delivery.status == SENDING)
    )
    value: int | None = result.scalar()
    return value


async def reclaim_expired(conn: AsyncConnection, now_ms: int) -> int:
    """Put deliveries whose lease ran out (their worker died) back in the queue."""
    result = await conn.execute(
        update(deliveries)
        .where(delivery.status == SENDING, delivery.lease_until < now_ms)
        .values(status=PENDING, lease_until=None, updated_at=now_ms)
        .returning(delivery.endpoint_id, delivery.next_attempt_at)
    )
    rows = result.all()
    await mark_ready(conn, earliest((row[0], row[1]) for row in rows))
    return len(rows)


async def rearm(
    conn: AsyncConnection,
    *,
    endpoint_id: str,
    now_ms: int,
    msg_id: str | None = None,
    msg_ids: list[str] | None = None,
    statuses: tuple[DeliveryStatus, ...] | None = None,
    since_msg_id: str | None = None,
    until_msg_id: str | None = None,
) -> int:
    """Make deliveries due again with a fresh retry budget (resend, recover, bulk replay)."""
    # The endpoint row first: a claim round holding it would otherwise wait for our rows.
    await mark_ready(conn, {endpoint_id: now_ms})
    await probe_now(conn, endpoint_id, now_ms)
    query = update(deliveries).where(
        delivery.endpoint_id == endpoint_id, delivery.status != SENDING
    )
    if msg_id is not None:
        query = query.where(delivery.msg_id == msg_id)
    if msg_ids is not None:
        query = query.where(delivery.msg_id.in_(msg_ids))
    if statuses is not None:
        query = query.where(delivery.status.in_([int(s) for s in statuses]))
    if since_msg_id is not None:
        query = query.where(delivery.msg_id >= since_msg_id)
    if until_msg_id is not None:
        query = query.where(delivery.msg_id < until_msg_id)
    result = await conn.execute(
        query.values(
            status=PENDING, attempts=0, next_attempt_at=now_ms, manual=True, updated_at=now_ms
        )
    )
    return int(result.rowcount)


async def rearm_unanswered(conn: AsyncConnection, *, endpoint_id: str, now_ms: int) -> int:
    """Make an endpoint's pending deliveries, and its failed ones that never got an answer,
    due now with a fresh retry budget: a relay's listener connected (services.relays)."""
    await mark_ready(conn, {endpoint_id: now_ms})
    await probe_now(conn, endpoint_id, now_ms)
    answered = (
        select(attempts.c.id)
        .where(
            attempts.c.msg_id == delivery.msg_id,
            attempts.c.endpoint_id == delivery.endpoint_id,
            attempts.c.response_status_code > 0,
        )
        .exists()
    )
    waiting = or_(
        delivery.status == int(DeliveryStatus.PENDING),
        and_(delivery.status == int(DeliveryStatus.FAIL), ~answered),
    )
    result = await conn.execute(
        update(deliveries)
        .where(delivery.endpoint_id == endpoint_id, waiting)
        .values(status=PENDING, attempts=0, next_attempt_at=now_ms, manual=True, updated_at=now_ms)
    )
    return int(result.rowcount)


async def get_delivery(conn: AsyncConnection, msg_id: str, endpoint_id: str) -> Row[Any] | None:
    query = select(deliveries).where(delivery.msg_id == msg_id, delivery.endpoint_id == endpoint_id)
    return (await conn.execute(query)).first()


def delivery_from_row(row: Row[Any]) -> MessageDelivery:
    m = row._mapping
    return MessageDelivery(
        msg_id=m["msg_id"],
        endpoint_id=m["endpoint_id"],
        status=DeliveryStatus(m["status"]),
        attempts=m["attempts"],
        next_attempt_at=opt_from_ms(m["next_attempt_at"]),
        updated_at=from_ms(m["updated_at"]),
    )
