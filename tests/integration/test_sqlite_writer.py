"""Database.run_write on SQLite (store.sqlite.writer): always on the event loop; while another
process holds the write lock it sleeps and tries again without blocking the loop, up to the busy
timeout; nothing lost either way."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from hookd.store.db import Database
from hookd.store.sqlite import writer as sqlite_writer
from tests import pg
from tests.support import eventually


def _insert_and_name_thread(n: int) -> Callable[[Connection], str]:
    def work(conn: Connection) -> str:
        conn.execute(text("INSERT INTO numbers VALUES (:n)"), {"n": n})
        return threading.current_thread().name

    return work


async def _numbers(db: Database) -> list[int]:
    async with db.read() as conn:
        return [row[0] for row in await conn.execute(text("SELECT n FROM numbers ORDER BY n"))]


def _take_write_lock(path: Path, n: int) -> sqlite3.Connection:
    """Another process's connection holding the write lock (as `hookd prune` or a sibling
    delivery process would)."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO numbers VALUES (?)", (n,))
    return other


async def test_writes_run_on_the_loop_and_wait_for_a_taken_lock_without_blocking_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "writer.db"
    async with pg.migrated_database("sqlite", path) as db:
        await db.run_write(lambda conn: conn.execute(text("CREATE TABLE numbers (n INTEGER)")))
        loop_thread = threading.current_thread().name
        assert await db.run_write(_insert_and_name_thread(1)) == loop_thread

        other = _take_write_lock(path, 2)
        waiting = asyncio.create_task(db.run_write(_insert_and_name_thread(3)))
        ticks = 0
        for _ in range(20):  # the loop keeps running while the write waits for the lock
            await asyncio.sleep(0.01)
            ticks += 1
        assert not waiting.done() and ticks == 20
        other.execute("COMMIT")
        other.close()
        assert await waiting == loop_thread

        await db.run_write(_insert_and_name_thread(4))
        assert await _numbers(db) == [1, 2, 3, 4]


async def test_a_lock_held_past_the_busy_timeout_fails_the_write_and_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_writer, "BUSY_TIMEOUT_MS", 200)
    path = tmp_path / "timeout.db"
    async with pg.migrated_database("sqlite", path) as db:
        await db.run_write(lambda conn: conn.execute(text("CREATE TABLE numbers (n INTEGER)")))
        other = _take_write_lock(path, 1)
        with pytest.raises(OperationalError, match="locked"):
            await db.run_write(_insert_and_name_thread(2))
        other.execute("COMMIT")
        other.close()
        await db.run_write(_insert_and_name_thread(3))
        assert await _numbers(db) == [1, 3]


async def test_a_failed_transaction_rolls_back_and_the_next_one_commits(tmp_path: Path) -> None:
    async with pg.migrated_database("sqlite", tmp_path / "rollback.db") as db:
        await db.run_write(lambda conn: conn.execute(text("CREATE TABLE numbers (n INTEGER)")))

        def half_then_fail(conn: Connection) -> None:
            conn.execute(text("INSERT INTO numbers VALUES (1)"))
            raise RuntimeError("refused half-way")

        with pytest.raises(RuntimeError, match="half-way"):
            await db.run_write(half_then_fail)
        await db.run_write(_insert_and_name_thread(2))
        assert await _numbers(db) == [2]


async def test_every_connection_commits_with_synchronous_full(tmp_path: Path) -> None:
    """A commit syncs the WAL before the answer (docs/production.md): PRAGMA synchronous=FULL
    (2) on the async writer, the synchronous writer, the readers and the checkpoint thread."""
    full = 2
    async with pg.migrated_database("sqlite", tmp_path / "durable.db") as db:
        async with db.write() as conn:
            assert (await conn.exec_driver_sql("PRAGMA synchronous")).scalar() == full
        synchronous = await db.run_write(
            lambda conn: conn.exec_driver_sql("PRAGMA synchronous").scalar()
        )
        assert synchronous == full
        async with db.read() as conn:
            assert (await conn.exec_driver_sql("PRAGMA synchronous")).scalar() == full
        checkpoints = db._checkpoints
        assert checkpoints is not None  # started by the writes above

        async def checkpoint_connection() -> sqlite3.Connection | None:
            return checkpoints.connection

        checkpointer = await eventually(checkpoint_connection)
        assert checkpointer.execute("PRAGMA synchronous").fetchone() == (full,)


async def test_only_transactions_that_acknowledge_nothing_skip_the_sync(tmp_path: Path) -> None:
    """The worker's claim rounds and flushes (``acknowledges=False``) commit with NORMAL (1);
    the next acknowledging transaction on the same connection is FULL (2) again."""
    normal, full = 1, 2

    def mode(conn: Connection) -> object:
        return conn.exec_driver_sql("PRAGMA synchronous").scalar()

    async with pg.migrated_database("sqlite", tmp_path / "modes.db") as db:
        seen = [
            await db.run_write(mode, acknowledges=False),
            await db.run_write(mode),
            await db.run_write(mode, acknowledges=False),
            await db.run_write(mode, acknowledges=False),
            await db.run_write(mode, acknowledges=True),
        ]
    assert seen == [normal, full, normal, normal, full]
