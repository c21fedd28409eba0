"""rolled-up counters, alert rules and issues, leases

Revision ID: 0006_rollups
Revises: 0005
Create Date: 2026-12-08 10:00:00

Attempts are counted per endpoint and minute (``endpoint_rollups``) and inbound requests per
source and minute (``source_rollups``) as they are recorded, so statistics and alert rules read
sums instead of counting rows. ``alert_rules`` and ``alert_issues`` hold the alerts;
``leases`` lets one process at a time evaluate them. New tables only: the previous release's
code runs unchanged beside them (it does not count; the counters start with this release).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNRESOLVED = sa.text("status != 'resolved'")


def _counter(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), server_default="0", nullable=False)


def upgrade() -> None:
    op.create_table(
        "endpoint_rollups",
        sa.Column("endpoint_id", sa.String(length=40), nullable=False),
        sa.Column("minute", sa.BigInteger(), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=False),
        *(
            _counter(name)
            for name in (
                "success",
                "fail",
                "canceled",
                "fail_4xx",
                "fail_5xx",
                "fail_no_response",
                "transform_failures",
                "destinations",
            )
        ),
        sa.PrimaryKeyConstraint("endpoint_id", "minute"),
    )
    op.create_index("ix_endpoint_rollups_minute", "endpoint_rollups", ["minute", "app_id"])
    op.create_table(
        "source_rollups",
        sa.Column("source_id", sa.String(length=40), nullable=False),
        sa.Column("minute", sa.BigInteger(), nullable=False),
        *(_counter(name) for name in ("accepted", "duplicate", "rejected", "handshake")),
        sa.PrimaryKeyConstraint("source_id", "minute"),
    )
    op.create_index("ix_source_rollups_minute", "source_rollups", ["minute"])
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("scope_id", sa.String(length=40), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("window_seconds", sa.Integer(), nullable=True),
        sa.Column("min_volume", sa.Integer(), nullable=True),
        sa.Column("escalate_threshold", sa.Float(), nullable=True),
        sa.Column("escalate_after_seconds", sa.Integer(), nullable=True),
        sa.Column("quiet_period_seconds", sa.Integer(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "alert_issues",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("rule_id", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("peak_value", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.BigInteger(), nullable=False),
        sa.Column("acknowledged_at", sa.BigInteger(), nullable=True),
        sa.Column("escalated_at", sa.BigInteger(), nullable=True),
        sa.Column("cleared_at", sa.BigInteger(), nullable=True),
        sa.Column("resolved_at", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["rule_id"], ["alert_rules.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "uq_alert_issues_unresolved",
        "alert_issues",
        ["rule_id", "subject"],
        unique=True,
        sqlite_where=UNRESOLVED,
        postgresql_where=UNRESOLVED,
    )
    op.create_index("ix_alert_issues_status", "alert_issues", ["status", "id"])
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("generation", sa.BigInteger(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_index("ix_alert_issues_status", table_name="alert_issues")
    op.drop_index("uq_alert_issues_unresolved", table_name="alert_issues")
    op.drop_table("alert_issues")
    op.drop_table("alert_rules")
    op.drop_index("ix_source_rollups_minute", table_name="source_rollups")
    op.drop_table("source_rollups")
    op.drop_index("ix_endpoint_rollups_minute", table_name="endpoint_rollups")
    op.drop_table("endpoint_rollups")
