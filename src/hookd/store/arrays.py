"""PostgreSQL array parameters: one statement text whatever the number of values.

An expanding ``IN`` (``col IN (:ids)``) renders one placeholder per value, so each list length is
a new statement: SQLAlchemy renders it again on every execution and asyncpg prepares it again
(one more round trip) for every length its connection has not seen. ``col = ANY(:ids)`` with one
array parameter is the same text for every length, so the hot statements of the worker's claim
rounds and flushes stay prepared on each pooled connection; ``unnest`` of arrays writes a whole
batch of rows as one statement with one parameter set. SQLite keeps its expanding ``IN`` (its
statements are compiled once per shape by ``store.sqlite.statements``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY


def array_param(name: str, item_type: Any) -> BindParameter[Any]:
    """A parameter holding a list, sent as one PostgreSQL array of ``item_type``."""
    return bindparam(name, type_=ARRAY(item_type))


def any_of(column: Any, name: str) -> ColumnElement[bool]:
    """``column = ANY(:name)`` (PostgreSQL): ``name`` is given a list of values."""
    expression: ColumnElement[bool] = column == any_(array_param(name, column.type))
    return expression


def in_list(column: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """``column`` among the list given as ``name``: ``= ANY`` of one array on PostgreSQL, an
    expanding ``IN`` elsewhere."""
    if dialect == "postgresql":
        return any_of(column, name)
    expression: ColumnElement[bool] = column.in_(bindparam(name, expanding=True))
    return expression
