"""Cursor pagination on time-sortable ids, in Svix's shape (iterator, prevIterator, done)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.core.domain import Page

T = TypeVar("T")


async def paginate(
    conn: AsyncConnection,
    query: Select[Any],
    key: ColumnElement[str],
    to_item: Callable[[Row[Any]], T],
    *,
    iterator: str | None,
    limit: int,
    descending: bool,
) -> Page[T]:
    """One page of ``query`` ordered by ``key``; an iterator starting with ``-`` pages backwards."""
    backwards = bool(iterator and iterator.startswith("-"))
    cursor = iterator[1:] if iterator and backwards else iterator
    # Walking backwards through a descending list is walking forwards through an ascending one.
    ascending = descending == backwards
    if cursor:
        query = query.where(key > cursor if ascending else key < cursor)
    query = query.order_by(key.asc() if ascending else key.desc()).limit(limit + 1)
    rows = list((await conn.execute(query)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    items = [to_item(row) for row in rows]
    if not rows:
        return Page(items, iterator, iterator, True)
    first, last = rows[0]._mapping[key], rows[-1]._mapping[key]
    done = not more if not backwards else False
    return Page(items, str(last), f"-{first}", done)
