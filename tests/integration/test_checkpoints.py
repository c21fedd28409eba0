"""WAL checkpoints beside the writer (store.checkpoints): the writers' own automatic checkpoint
is only a backstop, the checkpointer's thread copies the WAL into the database file, nothing
written is lost, and closing the database leaves the WAL fully checkpointed."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import Connection, text

from hookd.store.checkpoints import BACKSTOP_PAGES
from hookd.store.db import Database
from tests import pg

ROWS_PER_WRITE = 50
WRITES = 200


def _checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "hookd-sqlite-checkpoint"]


def _unchecked_frames(path: Path) -> tuple[int, int]:
    """(frames in the WAL, frames of it already copied into the database file)."""
    with sqlite3.connect(path) as conn:
        busy, log, checkpointed = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0
    return log, checkpointed


async def test_writes_are_checkpointed_beside_the_writer_and_none_is_lost(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wal.db"
    others = len(_checkpoint_threads())  # of databases other tests left open
    async with pg.migrated_database("sqlite", path) as db:
        await db.run_write(
            lambda conn: conn.execute(text("CREATE TABLE filler (n INTEGER, pad BLOB)"))
        )

        def backstop(conn: Connection) -> int:
            return int(conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one())

        assert await db.run_write(backstop) == BACKSTOP_PAGES

        for n in range(WRITES):

            def write(conn: Connection, n: int = n) -> None:
                rows = [{"n": n, "pad": b"x" * 2000} for _ in range(ROWS_PER_WRITE)]
                conn.execute(text("INSERT INTO filler VALUES (:n, :pad)"), rows)

            await db.run_write(write)
        assert len(_checkpoint_threads()) == others + 1
        # Only a checkpoint moves pages from the WAL into the database file: it grows while the
        # database is open, with no commit waiting for it (the WAL is far below the backstop).
        deadline = time.monotonic() + 60
        while path.stat().st_size < WRITES * ROWS_PER_WRITE * 2000:
            assert time.monotonic() < deadline, "nothing was checkpointed"
            await asyncio.sleep(0.05)
        await db.close()
        assert len(_checkpoint_threads()) == others

        # The last checkpoint ran when the database closed: everything is in the file.
        log, checkpointed = _unchecked_frames(path)
        assert log == checkpointed
        with sqlite3.connect(path) as conn:
            (count,) = conn.execute("SELECT count(*) FROM filler").fetchone()
        assert count == WRITES * ROWS_PER_WRITE

        # Usable again after close: a write starts a new checkpointer.
        await db.run_write(lambda conn: conn.execute(text("INSERT INTO filler VALUES (0, x'')")))
        assert len(_checkpoint_threads()) == others + 1


def test_a_database_that_never_wrote_starts_no_thread(tmp_path: Path) -> None:
    others = len(_checkpoint_threads())
    Database(f"sqlite:///{tmp_path / 'idle.db'}")
    assert len(_checkpoint_threads()) == others
