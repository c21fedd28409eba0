"""rejected inbound requests: a truncated body's full size, coalesced repeats, their retention

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 15:00:00

A rejected request keeps only the first HOOKD_REJECTED_BODY_BYTES of its body (``body_size``
holds the full size); repeated rejections from one address are counted on one record
(``request_count``, ``last_received_at``); ``ix_inbound_requests_rejected`` lets the prune
find old rejected requests by id without reading the others.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REJECTED = sa.text("outcome = 'rejected'")


def upgrade() -> None:
    with op.batch_alter_table("inbound_requests") as batch:
        batch.add_column(sa.Column("body_size", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("request_count", sa.Integer(), server_default="1", nullable=False)
        )
        batch.add_column(sa.Column("last_received_at", sa.BigInteger(), nullable=True))
    op.create_index(
        "ix_inbound_requests_rejected",
        "inbound_requests",
        ["id"],
        sqlite_where=REJECTED,
        postgresql_where=REJECTED,
    )


def downgrade() -> None:
    op.drop_index("ix_inbound_requests_rejected", table_name="inbound_requests")
    with op.batch_alter_table("inbound_requests") as batch:
        batch.drop_column("last_received_at")
        batch.drop_column("request_count")
        batch.drop_column("body_size")
