"""The database's post-commit hook for the Redis queue index: every committed ``mark_ready``
reaches it once, with each endpoint's earliest time; a rolled-back one never does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Connection

from hookd.config import Settings
from hookd.services.applications import create_app
from hookd.services.context import Context
from hookd.services.endpoints.crud import create_endpoint
from hookd.store import scheduling
from tests import pg


@pytest.fixture(params=["sqlite", "postgresql"])
async def ctx(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Context]:
    async with pg.migrated_database(request.param, tmp_path / "hook.db") as database:
        yield Context(db=database, settings=Settings(allow_networks=("127.0.0.0/8",)))


async def endpoints(ctx: Context, count: int) -> list[str]:
    app, _ = await create_app(ctx, {"name": "hook"})
    made = [
        await create_endpoint(ctx, app.id, {"url": "http://127.0.0.1:9/"}) for _ in range(count)
    ]
    return [endpoint.id for endpoint in made]


async def test_committed_ready_marks_reach_the_hook_once(ctx: Context) -> None:
    first, second = await endpoints(ctx, 2)
    calls: list[dict[str, int]] = []
    ctx.db.on_ready = calls.append

    async with ctx.db.write() as conn:
        await scheduling.mark_ready(conn, {first: 5000, second: 7000})
        await scheduling.mark_ready(conn, {first: 3000, second: 9000})
        assert calls == []  # not before the commit
    assert calls == [{first: 3000, second: 7000}]

    await ctx.db.run_write(lambda conn: scheduling.mark_ready_sync(conn, {second: 1000}))
    assert calls[1:] == [{second: 1000}]

    async with ctx.db.write() as conn:
        pass  # a transaction that made nothing ready calls nothing
    assert len(calls) == 2


async def test_rolled_back_ready_marks_never_reach_the_hook(ctx: Context) -> None:
    [endpoint] = await endpoints(ctx, 1)
    calls: list[dict[str, int]] = []
    ctx.db.on_ready = calls.append

    async def fail_async() -> None:
        async with ctx.db.write() as conn:
            await scheduling.mark_ready(conn, {endpoint: 1000})
            raise RuntimeError("rolled back")

    def fail(conn: Connection) -> None:
        scheduling.mark_ready_sync(conn, {endpoint: 1000})
        raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await fail_async()
    with pytest.raises(RuntimeError):
        await ctx.db.run_write(fail)
    async with ctx.db.write() as conn:
        await scheduling.mark_ready(conn, {endpoint: 2000})
    assert calls == [{endpoint: 2000}]  # nothing left over from the failed ones
