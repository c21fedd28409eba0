"""SQLite connection settings, and the synchronous writer behind ``Database.run_write``.

A hot-path transaction (a group of creates or ingested requests, a worker's claim round or
flush) is a plain function on a synchronous SQLAlchemy ``Connection`` over the stdlib driver.
It runs **on the event loop** while SQLite's write lock is free: its connection has no busy
timeout, so ``BEGIN IMMEDIATE`` either takes the lock at once or fails at once. Only when
another process holds the lock (a ``hookd prune`` beside the server, say) does the
transaction go to a thread of its own, whose connection waits for the lock as every other
connection does (``busy_timeout``), so the event loop never waits on another process; for a
moment after that (``CONTENDED_SECONDS``) transactions go straight to the thread.

Why not always the thread: on 2 cores, a hop to a thread and back cost more than the
transaction itself. The ingest benchmark measured 1.0 to 1.5 ms from handing a transaction to
the thread to the thread starting it (the thread waits for a core and for the GIL while the
loop parses requests) and about 1 ms back, around transactions of 2 ms; run on the loop, the
same load was answered 25% faster with 10% less CPU per request. SQLite's own work is short
here: with WAL and ``synchronous=NORMAL`` a commit writes to the WAL without syncing, and
checkpoints (which sync) run on their own thread (``store.checkpoints``).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from hookd.store.checkpoints import BACKSTOP_PAGES

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000
# After the write lock was found taken, transactions go to the thread for this long.
CONTENDED_SECONDS = 1.0


def configure_connection(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    """Settings of every SQLite connection hookd opens (a SQLAlchemy ``connect`` listener)."""
    # The driver's own transaction handling defers BEGIN; ours issues BEGIN IMMEDIATE itself.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    for pragma in (
        "journal_mode=WAL",
        f"busy_timeout={BUSY_TIMEOUT_MS}",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        # Checkpoints run beside the writers (store.checkpoints); this is only the backstop.
        f"wal_autocheckpoint={BACKSTOP_PAGES}",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def begin_immediate(conn: Any) -> None:
    """Writers take the write lock when their transaction begins, never half-way through."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def begin_deferred(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


class WriteLockTaken(Exception):
    """Another process holds SQLite's write lock."""


def _is_lock_taken(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


class SqliteWriter:
    """Runs synchronous write transactions on one SQLite file (see the module docstring).

    The caller serialises ``run`` calls (``Database`` holds its write turn around them).
    """

    def __init__(self, sync_url: str) -> None:
        self.engine: Engine = create_engine(
            sync_url,
            pool_size=2,  # one connection for the loop, one for the thread
            max_overflow=0,
            pool_reset_on_return=None,  # every use ends its own transaction
            # dispose() closes both pooled connections from the loop; one was made on the thread.
            connect_args={"check_same_thread": False},
        )
        event.listen(self.engine, "connect", configure_connection)
        event.listen(self.engine, "begin", begin_immediate)
        self._loop_conn: Connection | None = None
        self._thread_conn: Connection | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._contended_until = 0.0

    async def run(self, transaction: Callable[[Connection], T]) -> T:
        """``transaction(conn)`` inside ``BEGIN IMMEDIATE`` … ``COMMIT``; its result."""
        if time.monotonic() >= self._contended_until:
            try:
                return self._on_loop(transaction)
            except WriteLockTaken:
                self._contended_until = time.monotonic() + CONTENDED_SECONDS
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, "hookd-sqlite-writer")
        done = asyncio.get_running_loop().run_in_executor(
            self._thread, self._on_thread, transaction
        )
        try:
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            # The thread cannot be stopped: the caller keeps its turn until the transaction ends.
            await asyncio.wait([done])
            raise

    def _on_loop(self, transaction: Callable[[Connection], T]) -> T:
        conn = self._loop_conn = self._usable(self._loop_conn, busy_timeout_ms=0)
        try:
            begun = conn.begin()
        except OperationalError as exc:
            if _is_lock_taken(exc):
                raise WriteLockTaken() from exc
            raise
        with begun:
            return transaction(conn)

    def _on_thread(self, transaction: Callable[[Connection], T]) -> T:
        conn = self._thread_conn = self._usable(self._thread_conn, busy_timeout_ms=None)
        with conn.begin():
            return transaction(conn)

    def _usable(self, conn: Connection | None, *, busy_timeout_ms: int | None) -> Connection:
        """``conn``, or a new connection in its place if it broke (kept between transactions:
        a pool checkout and return per transaction cost more than a small group's inserts)."""
        if conn is not None and not conn.closed and not conn.invalidated:
            return conn
        if conn is not None:
            conn.close()
        conn = self.engine.connect()
        if busy_timeout_ms is not None:
            # On the driver: through SQLAlchemy the statement would begin a transaction, and
            # BEGIN IMMEDIATE would wait for the lock with the default timeout.
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        return conn

    async def close(self) -> None:
        """Release both connections and the thread; usable again afterwards."""
        if self._thread is not None:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._close_thread_conn)
            self._thread.shutdown()
            self._thread = None
        if self._loop_conn is not None:
            self._loop_conn.close()
            self._loop_conn = None
        self.engine.dispose()

    def _close_thread_conn(self) -> None:
        if self._thread_conn is not None:
            self._thread_conn.close()
            self._thread_conn = None
