"""SQLite connection settings, and the synchronous writer behind ``Database.run_write``.

A hot-path transaction (a group of creates or ingested requests, a worker's claim round or
flush) is a plain function on a synchronous SQLAlchemy ``Connection`` over the stdlib driver.
It runs **on the event loop**: its connection has no busy timeout, so ``BEGIN IMMEDIATE``
either takes SQLite's write lock at once or fails at once. When another process holds the lock
(a sibling delivery process, ``HOOKD_DELIVERY_PROCESSES``, or a ``hookd prune`` beside the
server), the writer sleeps on the loop for a moment and tries again, for up to the busy timeout
every other connection has; the event loop never waits on another process.

Why not a thread: on 2 cores, a hop to a thread and back cost more than the transaction
itself (the thread waits for a core and for the GIL while the loop parses requests); run on the
loop, the same load was answered faster with less CPU per request (measured: README,
Performance). Why not SQLite's busy handler (on a thread, as before):
it sleeps 1, 2, 5, 10, 15 ms... between attempts, while a sibling process holds the lock for a
transaction of a few milliseconds, so two delivery processes spent much of their time asleep;
the retries here start at a quarter of a millisecond. SQLite's own work is short: with WAL a
commit appends to the WAL, and checkpoints run on their own thread (``store.checkpoints``).

Durability: every connection runs ``synchronous=FULL``, so a commit syncs the WAL to disk
before it returns, and an answer given after a commit survives a power loss or a kernel crash,
not only a crash of the process (``NORMAL`` defers that sync to the checkpoint). Group commit
(``store.group_commit``) makes that one sync per group of creates or ingested requests, not one
per request (measured: README, Performance). The exception is a transaction that
acknowledges nothing: the worker's claim rounds and flushes run with ``synced=False``, which
switches the hot-path connection to ``synchronous=NORMAL`` for them (and back for the next
acknowledging one). Their frames reach the disk with the next synced commit or checkpoint, since
WAL frames are appended in order and a sync covers the whole file; a power cut may lose the
last of them, which puts a claimed delivery back to pending or forgets an attempt's outcome, and
the delivery is sent again (at least once). The commit's sync runs on the event loop, so each
one it skips gives the loop that sync's time back.

How long a write waits for a lock another process holds is the busy timeout
(``HOOKD_SQLITE_BUSY_TIMEOUT``, 5 s by default), counted from the moment the write was asked
for (its wait for this process's write turn included): after it the write fails with SQLite's
"database is locked", which the API answers with 503 ``database_unavailable``.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from hookd.store.checkpoints import BACKSTOP_PAGES
from hookd.store.sqlite.files import SYNCHRONOUS, UNSYNCED

T = TypeVar("T")

# The default busy timeout (HOOKD_SQLITE_BUSY_TIMEOUT): a request that cannot have the write
# lock within it gets a 503 with Retry-After instead of holding its client.
BUSY_TIMEOUT_MS = 5_000
# Seconds between attempts at a write lock another process holds (the last one repeats).
RETRY_DELAYS = (0.00025, 0.0005, 0.001, 0.002, 0.004)


def connection_settings(busy_timeout_ms: int) -> Callable[[DBAPIConnection, Any], None]:
    """Settings of every SQLite connection hookd opens (a SQLAlchemy ``connect`` listener)."""

    def configure(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry | None) -> None:
        # The driver's own transaction handling defers BEGIN; ours issues BEGIN IMMEDIATE itself.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        for pragma in (
            "journal_mode=WAL",
            f"busy_timeout={busy_timeout_ms}",
            f"synchronous={SYNCHRONOUS}",
            "foreign_keys=ON",
            # Checkpoints run beside the writers (store.checkpoints); this is only the backstop.
            f"wal_autocheckpoint={BACKSTOP_PAGES}",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    return configure


def begin_immediate(conn: Any) -> None:
    """Writers take the write lock when their transaction begins, never half-way through."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def begin_deferred(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


class WriteLockTaken(Exception):
    """Another process holds SQLite's write lock."""

    def __init__(self, error: OperationalError) -> None:
        super().__init__(str(error))
        self.error = error


def _is_lock_taken(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


class SqliteWriter:
    """Runs synchronous write transactions on one SQLite file (see the module docstring).

    The caller serialises ``run`` calls (``Database`` holds its write turn around them).
    """

    def __init__(self, sync_url: str, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.engine: Engine = create_engine(
            sync_url,
            pool_size=1,
            max_overflow=0,
            pool_reset_on_return=None,  # every use ends its own transaction
            hide_parameters=True,  # no bound value (a token, a payload) in an error's text
        )
        event.listen(self.engine, "connect", connection_settings(busy_timeout_ms))
        event.listen(self.engine, "begin", begin_immediate)
        self._conn: Connection | None = None
        self._synchronous = SYNCHRONOUS  # the mode of ``_conn`` (every connection opens FULL)
        self.waits = 0  # transactions that found the write lock taken (for tests and logs)

    async def run(
        self, transaction: Callable[[Connection], T], deadline: float, *, synced: bool = True
    ) -> T:
        """``transaction(conn)`` inside ``BEGIN IMMEDIATE`` … ``COMMIT``; its result.

        ``synced=False``: the commit need not reach the disk before it returns (see the module
        docstring). While another process holds the write lock, tries again until ``deadline``
        (a ``time.monotonic()`` value), then raises SQLite's "database is locked" error."""
        mode = SYNCHRONOUS if synced else UNSYNCED
        try:
            return self._once(transaction, mode)
        except WriteLockTaken as taken:
            if time.monotonic() >= deadline:
                raise taken.error from taken.error.orig
        self.waits += 1
        for attempt in itertools.count():
            await asyncio.sleep(RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)])
            try:
                return self._once(transaction, mode)
            except WriteLockTaken as taken:
                if time.monotonic() >= deadline:
                    # Its cause is the driver's error, as when SQLAlchemy raises it itself.
                    raise taken.error from taken.error.orig
        raise AssertionError("unreachable")

    def _once(self, transaction: Callable[[Connection], T], mode: str) -> T:
        conn = self._conn = self._usable(self._conn)
        if mode != self._synchronous:
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.execute(f"PRAGMA synchronous={mode}")  # outside a transaction: takes effect
            self._synchronous = mode
        try:
            begun = conn.begin()
        except OperationalError as exc:
            if _is_lock_taken(exc):
                raise WriteLockTaken(exc) from exc
            raise
        with begun:
            return transaction(conn)

    def _usable(self, conn: Connection | None) -> Connection:
        """``conn``, or a new connection in its place if it broke (kept between transactions:
        a pool checkout and return per transaction cost more than a small group's inserts)."""
        if conn is not None and not conn.closed and not conn.invalidated:
            return conn
        if conn is not None:
            conn.close()
        conn = self.engine.connect()
        self._synchronous = SYNCHRONOUS  # as connection_settings opened it
        # On the driver: through SQLAlchemy the statement would begin a transaction, and
        # BEGIN IMMEDIATE would wait for the lock with the default timeout.
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute("PRAGMA busy_timeout=0")
        return conn

    async def close(self) -> None:
        """Release the connection; usable again afterwards."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.engine.dispose()
