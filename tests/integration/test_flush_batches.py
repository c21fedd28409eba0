"""A claimed batch keeps at-least-once delivery however its outcomes are written: one statement
for the whole batch on PostgreSQL (``unnest`` of arrays), one ``executemany`` on SQLite.

A flush that fails writes nothing and is written whole by the next one; a worker that dies with
half of its batch unfinished loses nothing (the unfinished half comes back when its lease runs
out and is claimed again); a finished delivery whose message was deleted meanwhile, or whose
lease ran out before its outcome was written, is handled alike on both databases.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, delete, func, insert, select

from hookd import ids
from hookd.config import Settings
from hookd.core.delivery import AttemptResult
from hookd.core.domain import Claim, DeliveryStatus, Endpoint, Message
from hookd.core.rollups import AttemptFact
from hookd.engine.outcomes import Outcomes
from hookd.services.applications import create_app
from hookd.services.context import Context
from hookd.services.endpoints.crud import create_endpoint
from hookd.store import deliveries, rollups, scheduling
from hookd.store import messages as message_store
from hookd.store.codec import to_ms
from hookd.store.schema import attempts, messages
from hookd.store.schema import deliveries as delivery_table
from tests import pg

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
OK = AttemptResult(204, b"", 3)
LIMITS = scheduling.Limits(budget=1000, failing_budget=500, per_endpoint=1000)


@pytest.fixture(params=["sqlite", "postgresql"])
async def ctx(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Context]:
    async with pg.migrated_database(request.param, tmp_path / "flush.db") as database:
        settings = Settings(allow_networks=("127.0.0.0/8",))
        yield Context(db=database, settings=settings, clock=lambda: T0)


async def fan_out(ctx: Context, messages_count: int, endpoints_count: int) -> list[Endpoint]:
    """``messages_count`` messages, each to every one of ``endpoints_count`` endpoints."""
    app, _ = await create_app(ctx, {"name": "batches"})
    made = [
        await create_endpoint(ctx, app.id, {"url": f"http://127.0.0.1:9/{n}"})
        for n in range(endpoints_count)
    ]
    async with ctx.db.write() as conn:
        for n in range(messages_count):
            msg_id = ids.new_id(ids.MESSAGE, T0)
            message = Message(msg_id, app.id, "t", None, None, None, b"{}", T0)
            await conn.execute(insert(messages), [message_store.message_values(message)])
            delivery_ids = [ids.new_id(ids.DELIVERY, T0) for _ in made]
            endpoint_ids = [e.id for e in made]
            rows = deliveries.new_delivery_rows(
                delivery_ids, msg_id, app.id, endpoint_ids, to_ms(T0) - n
            )
            await deliveries.insert_deliveries(conn, rows)
    return made


async def claim(ctx: Context, now: datetime) -> list[Claim]:
    def round_(conn: Connection) -> list[Claim]:
        return scheduling.claim(conn, now, now + LEASE, LIMITS)

    return await ctx.db.run_write(round_)


async def statuses(ctx: Context) -> dict[str, int]:
    async with ctx.db.read() as conn:
        rows = (await conn.execute(select(delivery_table.c.id, delivery_table.c.status))).all()
    return {row[0]: row[1] for row in rows}


async def attempts_by_delivery(ctx: Context) -> dict[tuple[str, str], int]:
    query = select(attempts.c.msg_id, attempts.c.endpoint_id, func.count()).group_by(
        attempts.c.msg_id, attempts.c.endpoint_id
    )
    async with ctx.db.read() as conn:
        return {(row[0], row[1]): row[2] for row in (await conn.execute(query)).all()}


def record(outcomes: Outcomes, claims: list[Claim], by_id: dict[str, Endpoint]) -> None:
    for c in claims:
        outcomes.record(c, by_id[c.endpoint_id], OK, T0, T0, retryable=True)


async def test_a_batch_whose_flush_fails_and_whose_worker_dies_is_delivered_once_each(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoints = await fan_out(ctx, messages_count=20, endpoints_count=3)
    by_id = {e.id: e for e in endpoints}
    claims = await claim(ctx, T0)
    assert len(claims) == 60
    first, unfinished = claims[:25], claims[25:]

    # Worker A: 25 attempts end and are flushed; the transaction fails after the batch's
    # attempts and delivery rows were written (at its last statement), so none of it stays.
    worker_a = Outcomes(ctx.settings, random.Random(1))
    record(worker_a, first, by_id)
    real_add = rollups.add_attempts
    failures = iter([RuntimeError("the flush's connection broke")])

    def add_attempts_failing_once(conn: Connection, facts: Iterable[AttemptFact]) -> None:
        real_add(conn, facts)
        failure = next(failures, None)
        if failure is not None:
            raise failure

    monkeypatch.setattr(rollups, "add_attempts", add_attempts_failing_once)
    with pytest.raises(RuntimeError):
        await worker_a.flush(ctx.db, T0)
    assert await attempts_by_delivery(ctx) == {}  # rolled back whole
    assert set((await statuses(ctx)).values()) == {int(DeliveryStatus.SENDING)}
    assert worker_a.finished == 25  # kept for the next flush
    await worker_a.flush(ctx.db, T0)  # written whole this time
    assert worker_a.finished == 0

    # Worker A dies with the other 35 claimed: nothing writes them until their lease runs out.
    later = T0 + LEASE + timedelta(seconds=1)
    async with ctx.db.write() as conn:
        assert await deliveries.reclaim_expired(conn, to_ms(later)) == 35
    again = await claim(ctx, later)
    assert sorted(c.id for c in again) == sorted(c.id for c in unfinished)
    worker_b = Outcomes(ctx.settings, random.Random(2))
    record(worker_b, again, by_id)
    await worker_b.flush(ctx.db, later)

    # Every delivery succeeded, each with exactly one attempt recorded (none lost, none twice).
    assert set((await statuses(ctx)).values()) == {int(DeliveryStatus.SUCCESS)}
    counted = await attempts_by_delivery(ctx)
    assert len(counted) == 60
    assert set(counted.values()) == {1}
    assert await claim(ctx, later + LEASE * 2) == []


async def test_a_flushed_batch_mixes_outcomes_drops_the_deleted_and_keeps_a_reclaimed_row(
    ctx: Context,
) -> None:
    endpoints = await fan_out(ctx, messages_count=4, endpoints_count=1)
    by_id = {e.id: e for e in endpoints}
    claims = sorted(await claim(ctx, T0), key=lambda c: c.msg_id)
    assert len(claims) == 4
    succeeded, retried, deleted, reclaimed = claims

    outcomes = Outcomes(ctx.settings, random.Random(3))
    outcomes.record(succeeded, by_id[succeeded.endpoint_id], OK, T0, T0, retryable=True)
    failed = AttemptResult(500, b"no", 4)
    outcomes.record(retried, by_id[retried.endpoint_id], failed, T0, T0, retryable=True)
    outcomes.record(deleted, by_id[deleted.endpoint_id], OK, T0, T0, retryable=True)
    outcomes.record(reclaimed, by_id[reclaimed.endpoint_id], OK, T0, T0, retryable=True)
    async with ctx.db.write() as conn:
        # Meanwhile: a message is deleted (its delivery goes with it) and another delivery's
        # row is put back in the queue (its lease ran out: another worker may send it again).
        await conn.execute(delete(messages).where(messages.c.id == deleted.msg_id))
        await conn.execute(
            delivery_table.update()
            .where(delivery_table.c.id == reclaimed.id)
            .values(status=int(DeliveryStatus.PENDING), lease_until=None)
        )
    await outcomes.flush(ctx.db, T0)

    async with ctx.db.read() as conn:
        rows = (await conn.execute(select(delivery_table))).all()
    state = {row.id: row for row in rows}
    assert deleted.id not in state
    assert state[succeeded.id].status == DeliveryStatus.SUCCESS
    assert state[succeeded.id].attempts == 1 and state[succeeded.id].lease_until is None
    assert state[retried.id].status == DeliveryStatus.PENDING  # a retry is scheduled
    assert state[retried.id].attempts == 1 and state[retried.id].next_attempt_at > to_ms(T0)
    # Not written over: it is queued again, and its attempt is on record.
    assert state[reclaimed.id].status == DeliveryStatus.PENDING
    assert state[reclaimed.id].attempts == 0
    counted = await attempts_by_delivery(ctx)
    endpoint_id = endpoints[0].id
    assert counted == {
        (succeeded.msg_id, endpoint_id): 1,
        (retried.msg_id, endpoint_id): 1,
        (reclaimed.msg_id, endpoint_id): 1,
    }
