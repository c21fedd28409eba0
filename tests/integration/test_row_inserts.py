"""insert_many, select_rows and execute_many: what SQLAlchemy would store and read, on SQLite
(the driver's cursor) and PostgreSQL (SQLAlchemy)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from hookd import ids
from hookd.config import Settings
from hookd.core.domain import Message
from hookd.services.context import Context
from hookd.services.ingest.sources import create_source
from hookd.store.db import Database
from hookd.store.messages import message_values
from hookd.store.row_inserts import insert_many
from hookd.store.schema import messages
from hookd.store.sqlite.statements import execute_many, select_rows
from tests import pg


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with pg.migrated_database(request.param, tmp_path / "rows.db") as database:
        yield database


def _message(app_id: str, n: int, **fields: object) -> Message:
    now = datetime.now(UTC)
    base: dict[str, object] = {
        "id": ids.new_id(ids.MESSAGE, now),
        "app_id": app_id,
        "event_type": "stripe.invoice.paid",
        "event_id": None,
        "channels": None,
        "tags": None,
        "payload": b'{"n": %d, "\xc3\xa9": "\x00"}' % n,
        "created_at": now,
        "content_type": "application/json",
        "headers": {"x-caf\u00e9": "\u00e9t\u00e9", "x-n": str(n)},
    }
    return Message(**(base | fields))  # type: ignore[arg-type]


async def test_rows_read_back_as_sqlalchemy_wrote_them(db: Database) -> None:
    ctx = Context(db, Settings(database_url=db.url))
    source = await create_source(ctx, {"name": "s", "type": "stripe", "config": {"secret": "x"}})
    fast = [message_values(_message(source.id, n)) for n in range(3)]
    fast.append(message_values(_message(source.id, 3, channels=("a", "b"), headers=None)))
    usual = [message_values(_message(source.id, n)) for n in range(4, 6)]

    def write(conn: Connection) -> None:
        insert_many(conn, messages, fast)
        conn.execute(insert(messages), usual)

    await db.run_write(write)
    async with db.read() as conn:
        stored = {row.id: row._asdict() for row in await conn.execute(select(messages))}
    for row in fast + usual:
        assert stored[row["id"]] == row


async def test_a_clash_is_sqlalchemys_integrity_error(db: Database) -> None:
    ctx = Context(db, Settings(database_url=db.url))
    source = await create_source(ctx, {"name": "s", "type": "stripe", "config": {"secret": "x"}})
    row = message_values(_message(source.id, 1))
    await db.run_write(lambda conn: insert_many(conn, messages, [row]))
    with pytest.raises(IntegrityError):
        await db.run_write(lambda conn: insert_many(conn, messages, [row]))


_BY_APP_AND_TYPES = select(messages.c.id).where(
    messages.c.app_id == bindparam("app"),
    messages.c.event_type.in_(bindparam("types", expanding=True)),
    messages.c.version == bindparam("version", 1),  # bound in the statement itself
)


async def test_select_rows_fills_lists_of_any_length_and_bound_values(db: Database) -> None:
    ctx = Context(db, Settings(database_url=db.url))
    source = await create_source(ctx, {"name": "s", "type": "stripe", "config": {"secret": "x"}})
    rows = [message_values(_message(source.id, n, event_type=f"t{n}")) for n in range(4)]
    await db.run_write(lambda conn: insert_many(conn, messages, rows))

    def ids(types: list[str]) -> Callable[[Connection], list[Any]]:
        return lambda conn: sorted(
            row[0]
            for row in select_rows(conn, _BY_APP_AND_TYPES, {"app": source.id, "types": types})
        )

    for types in (["t0"], ["t1", "t3"], ["t0", "t1", "t2", "t9"], ["t1"]):
        expected = sorted(r["id"] for r in rows if r["event_type"] in types)
        assert await db.run_write(ids(types)) == expected


async def test_async_connections_run_sync_go_through_sqlalchemy(db: Database) -> None:
    """Under an async connection's run_sync the driver is aiosqlite's (or asyncpg's), not the
    stdlib one: rows and queries go through SQLAlchemy there, with the same results."""
    ctx = Context(db, Settings(database_url=db.url))
    source = await create_source(ctx, {"name": "s", "type": "stripe", "config": {"secret": "x"}})
    rows = [message_values(_message(source.id, n, event_type=f"t{n}")) for n in range(2)]
    async with db.write() as conn:
        await conn.run_sync(lambda sync: insert_many(sync, messages, rows))
        found = await conn.run_sync(
            lambda sync: select_rows(sync, _BY_APP_AND_TYPES, {"app": source.id, "types": ["t1"]})
        )
    assert [row[0] for row in found] == [rows[1]["id"]]


# Parameters per row, values bound in the statement itself (a literal, None, False) beside them.
_RETYPE = (
    update(messages)
    .where(messages.c.id == bindparam("b_id"), messages.c.version == 1)
    .values(event_type=bindparam("b_type"), event_id=None, version=bindparam("b_version"))
)


async def test_execute_many_runs_a_statement_per_row_with_its_bound_values(db: Database) -> None:
    ctx = Context(db, Settings(database_url=db.url))
    source = await create_source(ctx, {"name": "s", "type": "stripe", "config": {"secret": "x"}})
    rows = [message_values(_message(source.id, n, event_id=f"e{n}")) for n in range(3)]
    await db.run_write(lambda conn: insert_many(conn, messages, rows))
    changes = [
        {"b_id": rows[0]["id"], "b_type": "first", "b_version": 2},
        {"b_id": rows[2]["id"], "b_type": "third", "b_version": 3},
    ]
    await db.run_write(lambda conn: execute_many(conn, _RETYPE, changes))
    await db.run_write(lambda conn: execute_many(conn, _RETYPE, []))
    async with db.read() as conn:
        query = select(
            messages.c.id, messages.c.event_type, messages.c.event_id, messages.c.version
        )
        stored = {row.id: tuple(row)[1:] for row in await conn.execute(query)}
    assert stored == {
        rows[0]["id"]: ("first", None, 2),
        rows[1]["id"]: (rows[1]["event_type"], "e1", 1),
        rows[2]["id"]: ("third", None, 3),
    }
