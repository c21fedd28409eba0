"""Hot statements on SQLite run straight on the driver's cursor, compiled by SQLAlchemy once.

SQLAlchemy renders a statement's expanding parameters (``IN`` lists) anew on every execution
and builds its execution context around it; for the small, frequent queries of the hot paths
(the ingest duplicate check, the create path's hand-off check) that cost more than SQLite's own
index lookups. :func:`select_rows` compiles such a statement once per shape (the length of each
list), then runs it on the stdlib driver of the synchronous writer's transaction. Elsewhere
(PostgreSQL, where asyncpg has its own fast path, and aiosqlite connections under an async
connection's ``run_sync``) statements go through SQLAlchemy as usual.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Executable
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

# (statement id, parameter shape) -> the statement, its SQL, the names of its positional
# parameters and the values bound in the statement itself. The hot paths' shapes are few.
_Compiled = tuple[Executable, str, tuple[str, ...], dict[str, Any]]
_compiled: dict[tuple[int, tuple[tuple[str, int], ...]], _Compiled] = {}
MAX_SHAPES = 4096


def sqlite_driver(conn: Connection) -> sqlite3.Connection | None:
    """The stdlib SQLite connection under ``conn``, if it is one: the synchronous writer's
    (``Database.run_write``), not aiosqlite's under an async connection's ``run_sync``."""
    if conn.dialect.name != "sqlite":
        return None
    driver = conn.connection.driver_connection
    return driver if isinstance(driver, sqlite3.Connection) else None


@contextmanager
def driver_cursor(driver: sqlite3.Connection) -> Iterator[sqlite3.Cursor]:
    """A cursor of ``driver`` (inside the transaction of the connection above it); driver
    errors are raised as SQLAlchemy raises them (``IntegrityError``, ``OperationalError``...)."""
    cursor = driver.cursor()
    try:
        yield cursor
    except sqlite3.Error as exc:
        raise DBAPIError.instance(None, None, exc, sqlite3.Error) from exc
    finally:
        cursor.close()


def select_rows(conn: Connection, statement: Executable, params: Mapping[str, Any]) -> list[Any]:
    """The rows of ``statement`` (built once, at module level) with ``params``; list values
    fill its expanding parameters."""
    driver = sqlite_driver(conn)
    if driver is None:
        return list(conn.execute(statement, dict(params)).all())
    # Each list's length; scalars as -1 (their values are bound at execution).
    shape = tuple(
        sorted((k, len(v) if isinstance(v, list | tuple) else -1) for k, v in params.items())
    )
    _, sql, names, bound = _compile(statement, shape)
    values = dict(bound)
    for name, value in params.items():
        if isinstance(value, list | tuple):
            values.update((f"{name}_{i}", item) for i, item in enumerate(value, 1))
        else:
            values[name] = value
    with driver_cursor(driver) as cursor:
        cursor.execute(sql, [values[name] for name in names])
        return cursor.fetchall()


def execute_many(
    conn: Connection, statement: Executable, rows: Sequence[Mapping[str, Any]]
) -> None:
    """``statement`` (built once, at module level, without lists) once per row of parameters,
    as one ``executemany``."""
    if not rows:
        return
    driver = sqlite_driver(conn)
    if driver is None:
        conn.execute(statement, [dict(row) for row in rows])
        return
    _, sql, names, bound = _compile(statement, ())
    given = [name for name in names if name not in bound]
    fixed = {name: bound[name] for name in names if name in bound}
    if fixed:
        params = [tuple(row[n] if n in row else fixed[n] for n in names) for row in rows]
    else:
        params = [tuple(row[n] for n in given) for row in rows]
    with driver_cursor(driver) as cursor:
        cursor.executemany(sql, params)


def execute_counted(conn: Connection, statement: Executable, params: Mapping[str, Any]) -> int:
    """Run ``statement`` (built once, at module level, without lists) once; the rows it
    changed (an ``INSERT ... ON CONFLICT DO NOTHING`` that inserted: 1)."""
    driver = sqlite_driver(conn)
    if driver is None:
        return int(conn.execute(statement, dict(params)).rowcount)
    _, sql, names, bound = _compile(statement, ())
    values = {**bound, **params}
    with driver_cursor(driver) as cursor:
        cursor.execute(sql, [values[name] for name in names])
        return int(cursor.rowcount)


def _compile(statement: Executable, shape: tuple[tuple[str, int], ...]) -> _Compiled:
    key = (id(statement), shape)
    made = _compiled.get(key)
    # The statement is kept with its SQL: an id is only unique while its object lives.
    if made is None or made[0] is not statement:
        assert isinstance(statement, ClauseElement)
        placeholders = {name: None if n < 0 else [None] * n for name, n in shape}
        # (No parameters to fill: INSERT, UPDATE and DELETE refuse ``params()``.)
        filled = statement.params(placeholders) if placeholders else statement
        compiled = filled.compile(
            dialect=sqlite_dialect(), compile_kwargs={"render_postcompile": True}
        )
        if len(_compiled) >= MAX_SHAPES:
            _compiled.clear()
        assert isinstance(compiled, SQLCompiler)
        names = tuple(compiled.positiontup or ())
        # Values the statement itself binds (literals, ``None`` in ``values()``); a bindparam
        # without a value must be given at execution.
        bound = {
            name: bind.value
            for name, bind in compiled.binds.items()
            if not bind.expanding and not bind.required
        }
        made = _compiled[key] = (statement, compiled.string, names, bound)
    return made
