"""Database handles: a read pool and a write path, on SQLite or PostgreSQL.

SQLite allows one writer: every write starts with ``BEGIN IMMEDIATE``, so a transaction never
fails half-way on a lock upgrade, and the writes of this process take turns on one lock, so they
never wait on SQLite's busy handler; WAL lets readers run beside them.

Two ways to write: :meth:`Database.write` (an async connection, for ordinary operations) and
:meth:`Database.run_write` (a plain function run as one transaction, for the hot paths; on
SQLite through ``store.sqlite.writer``: on the event loop with the stdlib driver, retried after
short sleeps while another process holds the write lock; a fraction of the cost of a
statement-by-statement async transaction).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import structlog
from sqlalchemy import Connection, event, text
from sqlalchemy.exc import DBAPIError, InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.dml import UpdateBase

from hookd.store.checkpoints import WalCheckpointer
from hookd.store.outages import DatabaseBusy
from hookd.store.sqlite import driver as sqlite_driver
from hookd.store.sqlite import files as sqlite_files
from hookd.store.sqlite import writer as sqlite_writer
from hookd.store.sqlite.writer import (
    SqliteWriter,
    begin_deferred,
    begin_immediate,
    connection_settings,
)

T = TypeVar("T")

DEADLOCK_RETRIES = 5
# PostgreSQL's deadlock_detected and serialization_failure: the transaction may be rerun.
log = structlog.get_logger("hookd")

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


# Writes to these tables change what a message fans out to (see ``config_version``).
CONFIG_TABLES = frozenset({"applications", "endpoints", "event_types"})
# ``Connection.info`` key under which a write transaction collects the endpoints it made ready
# (``scheduling.mark_ready``) for the ``on_ready`` hook, called once the transaction commits.
READY_KEY = "hookd.ready"

ReadyHook = Callable[[dict[str, int]], None]

# PostgreSQL: the pool's connections (all kept open) and how long one may sit unused before it
# is pinged when taken (a server restart in between is found then, not by a failed transaction).
PG_POOL_SIZE = 20
PING_AFTER_IDLE_SECONDS = 1.0
_RETURNED_KEY = "hookd.returned"  # ``ConnectionRecord.info``: when it came back to the pool


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info[_RETURNED_KEY] = time.monotonic()


def _ping_if_idle(engine: AsyncEngine) -> Callable[[Any, Any, Any], None]:
    """A pool ``checkout`` hook: ping a connection that sat unused for more than
    ``PING_AFTER_IDLE_SECONDS`` (what ``pool_pre_ping`` does on every checkout, three round
    trips each time). One found dead invalidates the pool, as ``pool_pre_ping`` does, and the
    pool connects again. A connection used within the last second is taken as it is: if the
    server went away meanwhile, that transaction fails as an outage (the API's 503, the worker's
    retry) and invalidates the pool, whose other connections are replaced when next taken."""
    dialect = engine.sync_engine.dialect

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED_KEY)
        if returned is None or time.monotonic() - returned <= PING_AFTER_IDLE_SECONDS:
            return  # new, or used a moment ago
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise InvalidatePoolError(str(exc)) from exc
        if not alive:
            raise InvalidatePoolError("ping failed")

    return checkout


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

    def __init__(self, url: str, *, busy_timeout: float | None = None) -> None:
        """``busy_timeout``: seconds an SQLite write waits for a lock another process holds
        (default ``sqlite_writer.BUSY_TIMEOUT_MS``); then it fails as an outage (a 503)."""
        self.url = driver_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        busy_ms = sqlite_writer.BUSY_TIMEOUT_MS if busy_timeout is None else busy_timeout * 1000
        self.busy_timeout_ms = int(busy_ms)
        self.config_version = 0
        self.on_ready: ReadyHook | None = None
        self._sync_writer: SqliteWriter | None = None
        self._write_turn: asyncio.Lock | None = None
        self._checkpoints: WalCheckpointer | None = None
        self.sqlite_path: Path | None = None  # the SQLite file (None: PostgreSQL, :memory:)
        self.writer: AsyncEngine
        self.reader: AsyncEngine
        if self.is_sqlite:
            path = self.url.split(":///", 1)[-1]
            if path and path != ":memory:":
                self.sqlite_path = Path(path)
                sqlite_files.prepare(self.sqlite_path)  # the directory 0700, the file 0600
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
                hide_parameters=True,  # no bound value (a token, a payload) in an error's text
            )
            self.reader = create_async_engine(
                self.url,
                pool_size=4,
                max_overflow=4,
                async_creator=connect,
                pool_reset_on_return=None,
                hide_parameters=True,  # no bound value (a token, a payload) in an error's text
            )
            self._sync_writer = SqliteWriter(
                "sqlite+pysqlite" + self.url[len("sqlite+aiosqlite") :], self.busy_timeout_ms
            )
            self._write_turn = asyncio.Lock()
            for sync_engine, begin in (
                (self.writer.sync_engine, begin_immediate),
                (self.reader.sync_engine, begin_deferred),
            ):
                event.listen(sync_engine, "connect", connection_settings(self.busy_timeout_ms))
                event.listen(sync_engine, "begin", begin)
            event.listen(self._sync_writer.engine, "before_execute", self._note_write)
        else:
            # Every connection stays open once made (the same ceiling of 20 as 10 + 10 overflow
            # had): an overflow connection was closed as it came back, so a burst above 10
            # transactions opened and closed a connection (and a server process) per use.
            # No ``pool_pre_ping`` (a BEGIN, a ``;`` and a ROLLBACK before every transaction):
            # a connection idle for a while is pinged instead (``_ping_if_idle``).
            # LIFO: the connections in use stay the few most recently used ones, whose
            # prepared statements (asyncpg caches them per connection) are warm.
            engine = create_async_engine(
                self.url,
                pool_size=PG_POOL_SIZE,
                max_overflow=0,
                pool_use_lifo=True,
                hide_parameters=True,
            )
            event.listen(engine.sync_engine.pool, "checkin", _note_checkin)
            event.listen(engine.sync_engine.pool, "checkout", _ping_if_idle(engine))
            self.writer = self.reader = engine
        event.listen(self.writer.sync_engine, "before_execute", self._note_write)

    def _note_write(self, _conn: Connection, statement: Any, *_args: Any) -> None:
        if isinstance(statement, UpdateBase) and getattr(statement.table, "name", None) in (
            CONFIG_TABLES
        ):
            self.config_version += 1

    def _deadline(self) -> float:
        """Until when (``time.monotonic()``) a write asked for now may wait for SQLite's lock."""
        return time.monotonic() + self.busy_timeout_ms / 1000

    @asynccontextmanager
    async def _turn_until(self, deadline: float) -> AsyncIterator[None]:
        """This process's write turn (SQLite), waited for until ``deadline`` at most: behind
        writes that wait for another process's lock, a write fails with them rather than wait
        for each in turn."""
        turn = self._write_turn
        if turn is None:
            yield
            return
        if turn.locked():
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    await turn.acquire()
            except TimeoutError:
                raise DatabaseBusy("the database is locked by another process") from None
        else:
            await turn.acquire()
        try:
            yield
        finally:
            turn.release()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction: committed on exit, rolled back on error."""
        hook = self.on_ready
        async with self._turn_until(self._deadline()):
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

    async def run_write(self, work: Callable[[Connection], T], *, acknowledges: bool = True) -> T:
        """Run ``work`` as one write transaction and return its result once committed.

        ``work`` is plain synchronous code on a SQLAlchemy ``Connection``. On SQLite it runs as
        ``SqliteWriter.run`` decides; on PostgreSQL on an asyncpg connection of the pool.
        ``acknowledges=False`` (the worker's claim rounds and flushes, whose loss a power cut may
        cost: the delivery is sent again) lets a SQLite commit skip its sync to disk; every
        transaction whose commit an answer reports keeps it (``SqliteWriter.run``).
        """
        hook = self.on_ready
        try:
            if self._sync_writer is None:
                async with self.writer.begin() as conn:
                    result, ready = await conn.run_sync(self._work, work, hook is not None)
            else:
                collect = hook is not None
                deadline = self._deadline()
                async with self._turn_until(deadline):
                    result, ready = await self._sync_writer.run(
                        lambda conn: self._work(conn, work, collect),
                        deadline,
                        synced=acknowledges,
                    )
                if self._checkpoints is not None:
                    self._checkpoints.note_write()
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

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction (one consistent snapshot)."""
        async with self.reader.connect() as conn, conn.begin():
            yield conn

    async def ping(self) -> None:
        """One ``SELECT 1`` in a read transaction (the health check); raises when it fails."""
        async with self.read() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        """Release connections and threads; the handle can be used again after."""
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()
        if self._sync_writer is not None:
            if self._sync_writer.waits:
                log.info("sqlite write lock waits", transactions=self._sync_writer.waits)
            await self._sync_writer.close()
        if self._checkpoints is not None:
            await asyncio.to_thread(self._checkpoints.stop)
        if self._write_turn is not None:
            self._write_turn = asyncio.Lock()  # usable again, also from another event loop
