"""Schema migrations (Alembic) on SQLite and PostgreSQL, run on hookd's own connections."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from hookd.store.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaOutOfDate(RuntimeError):
    """The database's schema is not the one this hookd version needs."""


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(db: Database) -> str | None:
    async with db.read() as conn:
        return await conn.run_sync(_current)


async def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str]:
    """Bring the schema to ``revision``; return (before, after)."""

    def run(connection: Connection) -> tuple[str | None, str]:
        before = _current(connection)
        command.upgrade(_config(connection), revision)
        after = _current(connection)
        assert after is not None
        return before, after

    async with db.write() as conn:
        return await conn.run_sync(run)


async def require_current(db: Database) -> None:
    """Refuse to run on a schema that is behind (or ahead of) this version of hookd."""
    current, head = await current_revision(db), head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"the database schema is at revision {current or 'none'}, this hookd needs {head}: "
            "run `hookd migrate` (back up first; see docs/production.md)"
        )
