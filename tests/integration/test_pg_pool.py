"""The PostgreSQL pool: connections are kept, and a dead one is found without a ping per use.

``store.db`` pings only a connection that sat unused for more than
``PING_AFTER_IDLE_SECONDS`` (``pool_pre_ping`` cost three round trips before every
transaction). A connection that died while idle is replaced before it is used; one that died
within that second fails its transaction as an outage (a 503, a worker's retry), and the next
transaction gets a new connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hookd.store import db as db_module
from hookd.store.db import Database
from hookd.store.outages import is_outage
from tests.pg import create_database, drop_database

pytestmark = pytest.mark.services


@pytest.fixture
async def database() -> AsyncIterator[tuple[Database, str]]:
    url = create_database(migrate=False)
    database = Database(url)
    try:
        yield database, url
    finally:
        await database.close()
        drop_database(url)


async def backend_pid(database: Database) -> int:
    async with database.read() as conn:
        pid: int = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    return pid


async def terminate(url: str, pid: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()


async def test_connections_are_kept_between_transactions(
    database: tuple[Database, str],
) -> None:
    db, _ = database
    first = await backend_pid(db)
    assert [await backend_pid(db) for _ in range(5)] == [first] * 5


async def test_a_connection_that_died_while_idle_is_replaced_before_use(
    database: tuple[Database, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, url = database
    pid = await backend_pid(db)
    await terminate(url, pid)
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)  # idle long enough
    replaced = await backend_pid(db)  # no error: the ping found it dead
    assert replaced != pid


async def test_a_connection_that_died_just_after_use_fails_once_as_an_outage(
    database: tuple[Database, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, url = database
    pid = await backend_pid(db)
    await terminate(url, pid)
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 3600.0)  # not pinged
    with pytest.raises(DBAPIError) as failed:
        await backend_pid(db)
    assert is_outage(failed.value)
    assert await backend_pid(db) != pid  # the pool was invalidated and connected again
