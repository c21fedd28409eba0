"""svix api: messages.deliver_at, background_tasks

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 15:00:00

``messages.deliver_at`` keeps the producer's ``deliverAt`` so create and get echo it;
``background_tasks`` records recover and the bulk operations (Svix's background-task API).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deliver_at", sa.BigInteger(), nullable=True))
    op.create_table(
        "background_tasks",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("task", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("background_tasks")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("deliver_at")
