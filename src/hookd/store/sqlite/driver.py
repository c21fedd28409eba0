"""aiosqlite with one trip to its thread per statement instead of four.

SQLAlchemy's aiosqlite adapter asks the driver for a cursor, executes, fetches every row and
closes the cursor: four trips to aiosqlite's connection thread, each a future, a queue put, a
thread wake-up and a hop back to the event loop, which profiles showed as the larger part of a
statement's cost. The cursors of :class:`OneHopConnection` do all four in one trip: the rows
come back with the execute and are handed over from memory. Everything else (the thread, commit,
rollback, close, isolation level) is aiosqlite's own. The connection is given to SQLAlchemy
with ``create_async_engine(..., async_creator=...)``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Generator, Iterable, Sequence
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import make_url

Outcome = tuple[Any, int, int | None, list[Any]]


def _run(conn: sqlite3.Connection, sql: str, parameters: Any, *, many: bool) -> Outcome:
    """On aiosqlite's thread: execute, fetch everything, close."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneHopCursor:
    """The async cursor API SQLAlchemy uses, with results buffered by ``execute``."""

    arraysize = 1

    def __init__(self, connection: OneHopConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def _trip(self, sql: str, parameters: Any, *, many: bool) -> OneHopCursor:
        outcome: Outcome = await self._connection._execute(  # type: ignore[no-untyped-call]
            partial(_run, many=many), self._connection._conn, sql, parameters
        )
        self.description, self.rowcount, self.lastrowid, self._rows = outcome
        return self

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> OneHopCursor:
        return await self._trip(sql, parameters, many=False)

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> OneHopCursor:
        return await self._trip(sql, list(parameters), many=True)

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self.arraysize if size is None else size
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def close(self) -> None:
        self._rows = []

    async def __aenter__(self) -> OneHopCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()


class _NewCursor:
    """What ``Connection.cursor()`` returns in aiosqlite: awaitable and an async context."""

    def __init__(self, cursor: OneHopCursor) -> None:
        self._cursor = cursor

    def __await__(self) -> Generator[Any, None, OneHopCursor]:
        return self._cursor.__aenter__().__await__()

    async def __aenter__(self) -> OneHopCursor:
        return self._cursor

    async def __aexit__(self, *_exc: object) -> None:
        await self._cursor.close()


class OneHopConnection(aiosqlite.Connection):
    def cursor(self) -> _NewCursor:  # type: ignore[override]
        return _NewCursor(OneHopCursor(self))


def creator(url: str) -> Callable[[], Awaitable[OneHopConnection]]:
    """An ``async_creator`` for ``url``, connecting with the arguments SQLAlchemy would use."""
    args, kwargs = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))

    async def connect() -> OneHopConnection:
        connection = OneHopConnection(partial(sqlite3.connect, *args, **kwargs), 64)
        connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own connections
        await connection
        return connection

    return connect
