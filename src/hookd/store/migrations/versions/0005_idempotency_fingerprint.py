"""idempotency key fingerprint: what request a key was first used for

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 15:00:00

A key reused for a different request (another body or query) is refused with 422
``idempotency_key_mismatch`` instead of being answered with the first request's response. Keys
stored before this revision have no fingerprint and are not compared (they expire within 12 h).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_column("fingerprint")
