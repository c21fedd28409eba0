"""Group commit on a real database: a job that breaks the shared transaction fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from hookd.services.applications import new_app
from hookd.store import applications
from hookd.store.db import Database
from hookd.store.group_commit import GroupCommit
from hookd.store.migrate import upgrade
from hookd.store.schema import applications as apps_table
from tests import pg


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    url = (
        f"sqlite:///{tmp_path / 'group.db'}" if request.param == "sqlite" else pg.create_database()
    )
    database = Database(url)
    if database.is_sqlite:
        await upgrade(database)
    try:
        yield database
    finally:
        await database.close()
        if not database.is_sqlite:
            pg.drop_database(url)


def _insert_apps(conn: Connection, uids: Sequence[str]) -> list[str | Exception]:
    """Insert one application per uid: a uid that exists breaks the whole transaction."""
    outcomes: list[str | Exception] = []
    now = datetime.now(UTC)
    for uid in uids:
        if uid.startswith("refuse"):
            outcomes.append(ValueError(f"refused {uid}"))  # refused before writing anything
            continue
        conn.execute(applications.app_insert(new_app({"name": uid}, uid, now)))
        outcomes.append(uid)
    return outcomes


async def _stored_uids(db: Database) -> set[str]:
    async with db.read() as conn:
        return set((await conn.execute(select(apps_table.c.uid))).scalars())


async def test_a_failing_job_fails_alone(db: Database) -> None:
    committer = GroupCommit(db, _insert_apps)
    await committer.submit("taken")

    uids = [f"ok-{n}" for n in range(20)] + ["taken", "refuse-1"]
    outcomes = await asyncio.gather(
        *(committer.submit(uid) for uid in uids), return_exceptions=True
    )

    assert outcomes[:20] == uids[:20]
    assert isinstance(outcomes[20], IntegrityError)  # the duplicate uid, retried alone
    assert isinstance(outcomes[21], ValueError)
    assert await _stored_uids(db) == {"taken", *uids[:20]}


async def test_run_write_commits_or_rolls_back_as_a_whole(db: Database) -> None:
    def half_then_fail(conn: Connection) -> None:
        _insert_apps(conn, ["half"])
        raise RuntimeError("boom")

    before = db.config_version
    with pytest.raises(RuntimeError):
        await db.run_write(half_then_fail)
    assert db.config_version > before  # a cache must forget what the rollback undid
    assert await db.run_write(lambda conn: _insert_apps(conn, ["whole"])) == ["whole"]
    assert await _stored_uids(db) == {"whole"}
