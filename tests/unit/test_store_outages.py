"""Which database errors are outages (503 + Retry-After) and which are not."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import asyncpg.exceptions
import pytest
import sqlalchemy as sa
from sqlalchemy import exc

from hookd.store.outages import is_outage, is_storage_full


def _error_of(engine: sa.Engine, sql: str) -> Exception:
    with pytest.raises(exc.DBAPIError) as caught, engine.begin() as conn:
        conn.exec_driver_sql(sql)
    return caught.value


def test_a_locked_sqlite_file_is_an_outage_and_a_bad_statement_is_not(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    holder.execute("BEGIN IMMEDIATE")  # holds the write lock
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        locked = _error_of(engine, "INSERT INTO t VALUES (1)")
        assert "locked" in str(locked)
        assert is_outage(locked)
        holder.execute("ROLLBACK")
        assert not is_outage(_error_of(engine, "SELECT * FROM no_such_table"))
        assert not is_outage(_error_of(engine, "INSERT INTO t VALUES (1), (1)"))  # integrity
    finally:
        engine.dispose()
        holder.close()


def test_connection_level_errors_are_outages() -> None:
    refused = ConnectionRefusedError(111, "Connection refused")
    assert is_outage(refused)
    wrapped = exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    assert is_outage(wrapped)
    invalidated = exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)
    assert is_outage(invalidated)
    assert is_outage(exc.TimeoutError("QueuePool limit reached"))
    outer = RuntimeError("while checking out a connection")
    outer.__cause__ = refused
    assert is_outage(outer)


def test_a_deadlock_victim_is_an_outage() -> None:
    """PostgreSQL rolled the transaction back whole: nothing applied, a retry goes through
    (a worker's flush deleting nothing an endpoint's deletion holds, say)."""
    victim = asyncpg.exceptions.DeadlockDetectedError("deadlock detected")
    wrapped = exc.DBAPIError("DELETE FROM endpoints", {}, Exception("deadlock detected"))
    wrapped.__cause__ = victim  # as SQLAlchemy's asyncpg dialect raises it
    assert is_outage(wrapped)
    assert is_outage(asyncpg.exceptions.SerializationError("could not serialize access"))


def test_other_errors_are_not_outages() -> None:
    assert not is_outage(ValueError("bad input"))
    assert not is_outage(exc.IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_outage(exc.ProgrammingError("SELEC", {}, Exception("syntax error")))


def test_a_full_sqlite_file_is_storage_full_and_not_an_outage(tmp_path: Path) -> None:
    """SQLITE_FULL (here from a page limit; a full disk gives the same code) is told apart."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'full.sqlite'}")
    sa.event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA max_page_count=4"))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (body BLOB)")
        full = _error_of(engine, "INSERT INTO t VALUES (zeroblob(100000))")
        assert "full" in str(full)
        assert is_storage_full(full) and not is_outage(full)
        assert not is_storage_full(_error_of(engine, "SELECT * FROM no_such_table"))
    finally:
        engine.dispose()
    assert is_storage_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_storage_full(asyncpg.exceptions.DiskFullError("could not extend file"))
    assert not is_storage_full(ConnectionRefusedError(111, "Connection refused"))
