"""Many rows into one table, inside a synchronous write transaction (``Database.run_write``).

On SQLite the rows go straight to the driver's cursor: one ``executemany`` of an ``INSERT``
built once per table and column list, each row a tuple, JSON columns encoded with orjson.
SQLAlchemy's ``executemany`` runs every value of every row through its type processors and
builds a parameter dict per row; on the ingest path that cost more than SQLite's own work. The
stored values are the ones SQLAlchemy would store (JSON as text, ``None`` in a JSON column as
``null``, as SQLAlchemy's ``JSON`` type stores it), read back through the same columns. On
aiosqlite connections (an async connection's ``run_sync``) the rows go through SQLAlchemy.

:func:`insert_unnest` (PostgreSQL) sends the rows as one array per column, one ``INSERT ...
SELECT FROM unnest(...)``: one statement and one parameter set for the whole batch, where an
``executemany`` binds and executes the statement once per row. :func:`insert_many` uses it on
PostgreSQL for rows whose columns are all plain (a create group's deliveries, a flush's
attempts); rows with JSON or bytes columns (messages, inbound requests) go through SQLAlchemy's
``executemany``.

Only for tables whose writes the config cache does not watch (``store.db.CONFIG_TABLES``): the
driver's cursor bypasses SQLAlchemy's events.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Connection,
    Float,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    insert,
    literal_column,
    select,
)

from hookd.store.arrays import array_param
from hookd.store.db import CONFIG_TABLES
from hookd.store.sqlite.statements import driver_cursor, sqlite_driver

_Encoded = Callable[[dict[str, Any]], tuple[Any, ...]]
_statements: dict[tuple[str, tuple[str, ...]], tuple[str, _Encoded]] = {}


def _json_text(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # what orjson refuses (integers past 64 bits): the stdlib's encoding
        return json.dumps(value)


def _statement(conn: Connection, table: Table, columns: tuple[str, ...]) -> tuple[str, _Encoded]:
    """The ``INSERT`` of ``columns`` (compiled by SQLAlchemy for the connection's dialect) and
    the function turning a row into its parameters, made once per table and column list."""
    key = (table.name, columns)
    made = _statements.get(key)
    if made is not None:
        return made
    assert table.name not in CONFIG_TABLES, "the config cache watches this table's writes"
    compiled = insert(table).compile(dialect=conn.dialect, column_keys=list(columns))
    order = tuple(compiled.positiontup or ())
    assert sorted(order) == sorted(columns), "one parameter per column"
    pick: Callable[[dict[str, Any]], Any] = (
        itemgetter(*order) if len(order) > 1 else lambda row: (row[order[0]],)
    )
    json_at = [i for i, name in enumerate(order) if isinstance(table.c[name].type, JSON)]

    def encoded(row: dict[str, Any]) -> tuple[Any, ...]:
        values = pick(row)
        if not json_at:
            return values  # type: ignore[no-any-return]
        listed = list(values)
        for i in json_at:
            listed[i] = _json_text(listed[i])
        return tuple(listed)

    made = _statements[key] = (compiled.string, encoded)
    return made


# Column types sent as PostgreSQL arrays as they are (no JSON, bytes or decorated types).
_ARRAY_SAFE = (String, Text, Integer, SmallInteger, BigInteger, Boolean, Float)


def _arrays_fit(table: Table, columns: tuple[str, ...]) -> bool:
    return all(type(table.c[name].type) in _ARRAY_SAFE for name in columns)


@lru_cache(maxsize=16)
def _unnest_statement(table: Table, columns: tuple[str, ...]) -> Any:
    assert table.name not in CONFIG_TABLES, "the config cache watches this table's writes"
    assert _arrays_fit(table, columns), "only plain columns go as arrays"
    arrays = func.unnest(*(array_param(name, table.c[name].type) for name in columns))
    return insert(table).from_select(list(columns), select(literal_column("*")).select_from(arrays))


def insert_unnest(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys, each a plain column of ``table``: text,
    numbers, booleans) as one statement of one array per column (PostgreSQL)."""
    if not rows:
        return
    columns = tuple(rows[0])
    params = {name: [row[name] for row in rows] for name in columns}
    conn.execute(_unnest_statement(table, columns), params)


def insert_many(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys, each a column of ``table``) in ``conn``'s
    transaction."""
    if not rows:
        return
    driver = sqlite_driver(conn)
    if driver is None:  # PostgreSQL, or aiosqlite under an async connection
        if conn.dialect.name == "postgresql" and _arrays_fit(table, tuple(rows[0])):
            insert_unnest(conn, table, rows)  # one statement, not one execution per row
        else:
            conn.execute(insert(table), list(rows))
        return
    sql, encoded = _statement(conn, table, tuple(rows[0]))
    with driver_cursor(driver) as cursor:
        cursor.executemany(sql, [encoded(row) for row in rows])
