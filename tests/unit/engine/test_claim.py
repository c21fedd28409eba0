"""``scheduling.claim`` on a temporary SQLite file: one round shares the worker's budget among
ready endpoints, keeps each under its in-flight cap, and writes what it takes as SENDING."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from hookd.core.domain import Claim, DeliveryStatus
from hookd.services.context import Context
from hookd.services.messages.crud import create_message
from hookd.store import scheduling
from hookd.store.scheduling import Limits
from tests.unit.engine.fakes import (
    SETTINGS,
    app_with_endpoints,
    delivery_status,
    sqlite_database,
)


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[Context]:
    async with sqlite_database(tmp_path / "claim.db") as database:
        yield Context(db=database, settings=SETTINGS)


async def queued(ctx: Context, app_id: str, count: int) -> list[str]:
    """``count`` messages, each with one delivery per endpoint of the application."""
    made = [
        await create_message(ctx, app_id, payload=b'{"n": %d}' % n, event_type="order.paid")
        for n in range(count)
    ]
    return [message.id for message, _ in made]


async def claim(ctx: Context, limits: Limits) -> list[Claim]:
    now = ctx.clock()
    lease = now + timedelta(seconds=30)
    return await ctx.db.run_write(lambda conn: scheduling.claim(conn, now, lease, limits))


async def test_a_round_shares_the_budget_within_each_endpoints_cap(ctx: Context) -> None:
    app_id, (first, second) = await app_with_endpoints(ctx, 2)
    msg_ids = await queued(ctx, app_id, 3)

    claims = await claim(ctx, Limits(budget=10, failing_budget=5, per_endpoint=2))

    assert Counter(c.endpoint_id for c in claims) == {first: 2, second: 2}
    for c in claims:
        assert c.app_id == app_id
        assert await delivery_status(ctx, c.msg_id, c.endpoint_id) == DeliveryStatus.SENDING
    # Oldest first: each endpoint's first two messages.
    assert {c.msg_id for c in claims} == set(msg_ids[:2])
    assert await delivery_status(ctx, msg_ids[2], first) == DeliveryStatus.PENDING


async def test_the_cap_counts_what_is_already_in_flight(ctx: Context) -> None:
    app_id, _ = await app_with_endpoints(ctx, 1)
    await queued(ctx, app_id, 3)
    limits = Limits(budget=10, failing_budget=5, per_endpoint=2)

    assert len(await claim(ctx, limits)) == 2
    assert await claim(ctx, limits) == []  # two are sending: the endpoint is at its cap


async def test_a_round_takes_no_more_than_its_budget(ctx: Context) -> None:
    app_id, _ = await app_with_endpoints(ctx, 3)
    await queued(ctx, app_id, 2)

    claims = await claim(ctx, Limits(budget=2, failing_budget=1, per_endpoint=5))

    assert len(claims) == 2
    assert len({c.endpoint_id for c in claims}) == 2  # round-robin: two endpoints, one each
