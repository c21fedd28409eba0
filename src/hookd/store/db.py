"""Database handles: a read pool and a write path, on SQLite or PostgreSQL.

SQLite allows one writer: every write starts with ``BEGIN IMMEDIATE``, so a transaction never
fails half-way on a lock upgrade, and the writes of this process take turns on one lock, so they
never wait on SQLite's busy handler; WAL lets readers run beside them.

Two ways to write: :meth:`Database.write` (an async connection, for ordinary operations) and
:meth:`Database.run_write` (a plain function run as one transaction; on SQLite the whole
transaction runs on a dedicated writer thread with the stdlib driver in one thread hop, which
costs a fraction of a statement-by-statement async transaction; the hot paths use it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.dml import UpdateBase

from hookd.store import sqlite_driver
from hookd.store.checkpoints import BACKSTOP_PAGES, WalCheckpointer

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
DEADLOCK_RETRIES = 5
# PostgreSQL's deadlock_detected and serialization_failure: the transaction may be rerun.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def _is_deadlock(exc: DBAPIError) -> bool:
    causes = (exc.orig, getattr(exc.orig, "__cause__", None))
    return any(getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES for cause in causes)


def driver_url(url: str) -> str:
    """Turn the URL a user writes into the async driver URL SQLAlchemy needs."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # The driver's own transaction handling defers BEGIN; ours issues BEGIN IMMEDIATE itself.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    for pragma in (
        "journal_mode=WAL",
        f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        # Checkpoints run beside the writers (store.checkpoints); this is only the backstop.
        f"wal_autocheckpoint={BACKSTOP_PAGES}",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _begin_immediate(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


# Writes to these tables change what a message fans out to (see ``config_version``).
CONFIG_TABLES = frozenset({"applications", "endpoints", "event_types"})
# ``Connection.info`` key under which a write transaction collects the endpoints it made ready
# (``scheduling.mark_ready``) for the ``on_ready`` hook, called once the transaction commits.
READY_KEY = "hookd.ready"

ReadyHook = Callable[[dict[str, int]], None]


def _collect_ready(conn: Connection | AsyncConnection) -> None:
    conn.info[READY_KEY] = {}


def _collected_ready(conn: Connection | AsyncConnection) -> dict[str, int]:
    """Take what the transaction collected (nothing from a connection that broke)."""
    try:
        collected: dict[str, int] = conn.info.pop(READY_KEY, None) or {}
    except Exception:  # an invalidated connection: the transaction fails anyway
        return {}
    return collected


class Database:
    """A reader engine and a writer engine (the same pool on PostgreSQL).

    ``config_version`` grows whenever this process writes to an application or endpoint (and
    when a write transaction fails), so an in-process cache of them can tell it is stale.

    ``on_ready`` (the optional Redis queue index) is called after every committed write
    transaction that made endpoints ready, with each endpoint's earliest ready time in ms: one
    post-commit hook for every ``mark_ready`` caller, never called for a rolled-back one.
    """

    def __init__(self, url: str) -> None:
        self.url = driver_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self.config_version = 0
        self.on_ready: ReadyHook | None = None
        self._sync_writer: Engine | None = None
        # The writer thread's connection, kept between transactions (SQLite only): a pool
        # checkout and return per transaction cost more than a small group's inserts.
        self._writer_conn: Connection | None = None
        self._writer_thread: ThreadPoolExecutor | None = None
        self._write_turn: asyncio.Lock | None = None
        self._checkpoints: WalCheckpointer | None = None
        self.writer: AsyncEngine
        self.reader: AsyncEngine
        if self.is_sqlite:
            path = self.url.split(":///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                self._checkpoints = WalCheckpointer(path)
            # Every use of a connection ends its own transaction (commit or rollback), so the
            # pool's rollback when a connection comes back would be one more hop for nothing.
            connect = sqlite_driver.creator(self.url)
            self.writer = create_async_engine(
                self.url,
                pool_size=1,
                max_overflow=0,
                async_creator=connect,
                pool_reset_on_return=None,
            )
            self.reader = create_async_engine(
                self.url,
                pool_size=4,
                max_overflow=4,
                async_creator=connect,
                pool_reset_on_return=None,
            )
            self._sync_writer = create_engine(
                "sqlite+pysqlite" + self.url[len("sqlite+aiosqlite") :],
                pool_size=1,
                max_overflow=0,
                pool_reset_on_return=None,
            )
            self._write_turn = asyncio.Lock()
            for sync_engine, begin in (
                (self.writer.sync_engine, _begin_immediate),
                (self._sync_writer, _begin_immediate),
                (self.reader.sync_engine, _begin_deferred),
            ):
                event.listen(sync_engine, "connect", _sqlite_pragmas)
                event.listen(sync_engine, "begin", begin)
            event.listen(self._sync_writer, "before_execute", self._note_write)
        else:
            engine = create_async_engine(
                self.url, pool_size=10, max_overflow=10, pool_pre_ping=True
            )
            self.writer = self.reader = engine
        event.listen(self.writer.sync_engine, "before_execute", self._note_write)

    def _note_write(self, _conn: Connection, statement: Any, *_args: Any) -> None:
        if isinstance(statement, UpdateBase) and getattr(statement.table, "name", None) in (
            CONFIG_TABLES
        ):
            self.config_version += 1

    def _turn(self) -> asyncio.Lock | nullcontext[None]:
        return self._write_turn if self._write_turn is not None else nullcontext()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction: committed on exit, rolled back on error."""
        hook = self.on_ready
        async with self._turn():
            try:
                async with self.writer.begin() as conn:
                    if hook is None:
                        yield conn
                    else:
                        _collect_ready(conn)
                        try:
                            yield conn
                        finally:
                            ready = _collected_ready(conn)
            except BaseException:
                self.config_version += 1  # a cache may hold what the rollback undid
                raise
            if self._checkpoints is not None:
                self._checkpoints.note_write()
        if hook is not None and ready:
            hook(ready)

    async def write_retrying(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run ``work`` in a write transaction, again if PostgreSQL broke a deadlock with it.

        Deleting an application or endpoint cascades through rows the workers lock in another
        order; PostgreSQL resolves such a cycle by failing one side, which is then safe to rerun.
        """
        for attempt in range(DEADLOCK_RETRIES):
            try:
                async with self.write() as conn:
                    return await work(conn)
            except DBAPIError as exc:
                if attempt == DEADLOCK_RETRIES - 1 or not _is_deadlock(exc):
                    raise
            await asyncio.sleep(0.01 * 2**attempt)
        raise AssertionError("unreachable")

    async def run_write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` as one write transaction and return its result once committed.

        ``work`` is plain synchronous code on a SQLAlchemy ``Connection``. On SQLite it runs on
        the writer thread; on PostgreSQL it runs on an asyncpg connection of the pool.
        """
        hook = self.on_ready
        try:
            if self._sync_writer is None:
                async with self.writer.begin() as conn:
                    result, ready = await conn.run_sync(self._work, work, hook is not None)
            else:
                async with self._turn():
                    if self._writer_thread is None:
                        self._writer_thread = ThreadPoolExecutor(1, "hookd-sqlite-writer")
                    loop = asyncio.get_running_loop()
                    done = loop.run_in_executor(
                        self._writer_thread, self._transaction, work, hook is not None
                    )
                    try:
                        result, ready = await asyncio.shield(done)
                    except asyncio.CancelledError:
                        # The thread cannot be stopped: keep the turn until its transaction ends.
                        await asyncio.wait([done])
                        raise
        except BaseException:
            self.config_version += 1
            raise
        if hook is not None and ready:
            hook(ready)
        return result

    @staticmethod
    def _work(
        conn: Connection, work: Callable[[Connection], T], collect: bool
    ) -> tuple[T, dict[str, int]]:
        """``work`` and the endpoints it made ready (collected only when a hook wants them)."""
        if not collect:
            return work(conn), {}
        _collect_ready(conn)
        try:
            result = work(conn)
        finally:
            ready = _collected_ready(conn)
        return result, ready

    def _transaction(
        self, work: Callable[[Connection], T], collect: bool
    ) -> tuple[T, dict[str, int]]:
        assert self._sync_writer is not None
        conn = self._writer_conn
        if conn is None or conn.closed or conn.invalidated:
            if conn is not None:
                conn.close()
            conn = self._writer_conn = self._sync_writer.connect()
        with conn.begin():
            done = self._work(conn, work, collect)
        if self._checkpoints is not None:
            self._checkpoints.note_write()
        return done

    def _close_writer(self) -> None:
        """On the writer thread: release its connection, then the engine's pool."""
        assert self._sync_writer is not None
        if self._writer_conn is not None:
            self._writer_conn.close()
            self._writer_conn = None
        self._sync_writer.dispose()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction (one consistent snapshot)."""
        async with self.reader.connect() as conn, conn.begin():
            yield conn

    async def close(self) -> None:
        """Release connections and the writer thread; the handle can be used again after."""
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()
        if self._sync_writer is not None and self._writer_thread is not None:
            await asyncio.get_running_loop().run_in_executor(
                self._writer_thread, self._close_writer
            )
            self._writer_thread.shutdown()
            self._writer_thread = None
        if self._checkpoints is not None:
            await asyncio.to_thread(self._checkpoints.stop)
        if self._write_turn is not None:
            self._write_turn = asyncio.Lock()  # usable again, also from another event loop
