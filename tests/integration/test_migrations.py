"""Migrations: `hookd migrate` builds exactly the schema the code declares, on both backends.

A change to ``store/schema.py`` without a migration fails ``test_migrations_match_the_schema``.
"""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from hookd.store.db import Database
from hookd.store.migrate import head_revision
from hookd.store.schema import metadata
from tests import pg
from tests.launcher import run_hookd


def hookd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_hookd(args, env=env)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hookd.db'}"
        return
    url = pg.create_database(migrate=False)
    try:
        yield url
    finally:
        pg.drop_database(url)


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_migrations_match_the_schema(empty_database: str) -> None:
    first = hookd("migrate", "--database-url", empty_database)
    assert first.returncode == 0, first.stderr
    assert f"from empty to {head_revision()}" in first.stdout

    again = hookd("migrate", "--database-url", empty_database)
    assert again.returncode == 0, again.stderr
    assert f"already at revision {head_revision()}" in again.stdout

    db = Database(empty_database)
    try:
        async with db.read() as conn:
            assert await conn.run_sync(_differences) == []
    finally:
        await db.close()


def test_serve_refuses_an_unmigrated_postgresql_database(tmp_path: Path) -> None:
    url = pg.create_database(migrate=False)
    try:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOOKD_DATABASE_URL": url,
            "HOOKD_DATA_DIR": str(tmp_path),
            "HOOKD_ADMIN_TOKEN": "test-token",
        }
        result = hookd("serve", "--port", "0", env=env)
        assert result.returncode == 3, result.stderr
        assert "hookd migrate" in result.stderr
        assert "revision none" in result.stderr
    finally:
        pg.drop_database(url)


def test_every_config_clock_trigger_survives_the_migrations(tmp_path: Path) -> None:
    """A migration that copies a table anew on SQLite (an Alembic batch) drops its triggers:
    the config clock (0002) would then miss another process's endpoint changes."""
    path = tmp_path / "hookd.db"
    done = hookd("migrate", "--database-url", f"sqlite:///{path}")
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(path) as conn:
        found = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
    expected = {
        f"config_clock_{table}_{event}"
        for table in ("applications", "endpoints", "event_types")
        for event in ("insert", "update", "delete")
    }
    assert expected <= found
