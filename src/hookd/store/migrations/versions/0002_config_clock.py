"""config clock: a version every write to applications, endpoints or event types raises

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:20:00

On SQLite, triggers keep it, so an in-process cache of the configuration can tell that another
process on the same file changed it (``store.config_cache``). PostgreSQL gets the table (one
schema for both) but no triggers: nothing caches the configuration there.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("applications", "endpoints", "event_types")
EVENTS = ("INSERT", "UPDATE", "DELETE")


def _trigger(table: str, event: str) -> str:
    return f"config_clock_{table}_{event.lower()}"


def upgrade() -> None:
    op.create_table(
        "config_clock",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO config_clock (id, version) VALUES (1, 0)")
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        for event in EVENTS:
            # Names from the constants above, nothing from outside.
            op.execute(
                f"CREATE TRIGGER {_trigger(table, event)} AFTER {event} ON {table} "  # noqa: S608
                "BEGIN UPDATE config_clock SET version = version + 1 WHERE id = 1; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS {_trigger(table, event)}")
    op.drop_table("config_clock")
