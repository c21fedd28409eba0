"""message traceparent: the trace context a message's attempts continue; endpoints' opt-out

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 12:00:00

With tracing on (docs/observability.md, "Traces"), ``messages.traceparent`` and
``messages.tracestate`` keep the W3C trace context of the span that created a message, so its
attempts, in any process and at any later time, continue that trace. ``endpoints.trace_context``
(``traceContext`` in the API, true by default) says whether requests to the endpoint carry
``traceparent`` and ``tracestate``. Messages stored before this revision have none: their
attempts start traces of their own.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN, not a batch: on SQLite a batch may copy the table anew,
    # which drops its triggers (the endpoints' config clock, 0002).
    op.add_column("messages", sa.Column("traceparent", sa.String(length=55), nullable=True))
    op.add_column("messages", sa.Column("tracestate", sa.Text(), nullable=True))
    op.add_column(
        "endpoints",
        sa.Column("trace_context", sa.Boolean(), nullable=False, server_default=sa.text("true")),
    )


def downgrade() -> None:
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.drop_column("trace_context")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("tracestate")
        batch_op.drop_column("traceparent")
