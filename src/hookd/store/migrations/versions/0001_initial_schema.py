"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 11:42:48.396984
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("uid", sa.String(length=256), nullable=True),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("rate_limit", sa.Integer(), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("kind", sa.String(length=16), server_default="app", nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index("ix_applications_kind", ["kind", "id"], unique=False)

    op.create_table(
        "event_types",
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("schemas", sa.JSON(), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("deprecated", sa.Boolean(), nullable=False),
        sa.Column("feature_flags", sa.JSON(), nullable=False),
        sa.Column("group_name", sa.String(length=256), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=128), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index("ix_idempotency_expires", ["expires_at"], unique=False)

    op.create_table(
        "server_keys",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "endpoints",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("uid", sa.String(length=256), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("filter_types", sa.JSON(), nullable=True),
        sa.Column("channels", sa.JSON(), nullable=True),
        sa.Column("rate_limit", sa.Integer(), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("old_secrets", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=8), server_default="POST", nullable=False),
        sa.Column("timeout_ms", sa.Integer(), server_default="5000", nullable=False),
        sa.Column("url_template", sa.Text(), nullable=True),
        sa.Column("body_template", sa.Text(), nullable=True),
        sa.Column("response_mapping", sa.JSON(), nullable=True),
        sa.Column("fallback_response", sa.JSON(), nullable=True),
        sa.Column("retry_async", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("auth", sa.JSON(), nullable=True),
        sa.Column("tls", sa.JSON(), nullable=True),
        sa.Column("thin", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("filter", sa.JSON(), nullable=True),
        sa.Column("transformation", sa.JSON(), nullable=True),
        sa.Column("fifo", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("batch_size", sa.Integer(), nullable=True),
        sa.Column("batch_max_wait_ms", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["app_id"], ["applications.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("app_id", "uid", name="uq_endpoints_app_uid"),
    )
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.create_index("ix_endpoints_app", ["app_id", "id"], unique=False)

    op.create_table(
        "messages",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("event_type", sa.String(length=256), nullable=False),
        sa.Column("event_id", sa.String(length=256), nullable=True),
        sa.Column("channels", sa.JSON(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("content_type", sa.String(length=256), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("other_versions", sa.JSON(), nullable=True),
        sa.Column("payload_expires_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["app_id"], ["applications.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("app_id", "event_id", name="uq_messages_app_event_id"),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index("ix_messages_app", ["app_id", "id"], unique=False)
        batch_op.create_index(
            "ix_messages_payload_expiry",
            ["payload_expires_at"],
            unique=False,
            sqlite_where=sa.text("payload IS NOT NULL"),
            postgresql_where=sa.text("payload IS NOT NULL"),
        )

    op.create_table(
        "sources",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("uid", sa.String(length=256), nullable=True),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_content_type", sa.String(length=256), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("dedup_window_seconds", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["id"], ["applications.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
        sa.UniqueConstraint("uid"),
    )
    op.create_table(
        "attempts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("msg_id", sa.String(length=40), nullable=False),
        sa.Column("endpoint_id", sa.String(length=40), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("response_status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("response_duration_ms", sa.Integer(), nullable=False),
        sa.Column("trigger_type", sa.SmallInteger(), nullable=False),
        sa.Column("attempt_number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["endpoint_id"], ["endpoints.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["msg_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.create_index("ix_attempts_endpoint", ["endpoint_id", "id"], unique=False)
        batch_op.create_index("ix_attempts_msg", ["msg_id", "id"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("msg_id", sa.String(length=40), nullable=False),
        sa.Column("endpoint_id", sa.String(length=40), nullable=False),
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger(), nullable=True),
        sa.Column("lease_until", sa.BigInteger(), nullable=True),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["endpoint_id"], ["endpoints.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["msg_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("msg_id", "endpoint_id", name="uq_deliveries_msg_endpoint"),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deliveries_due",
            ["next_attempt_at"],
            unique=False,
            sqlite_where=sa.text("status = 1"),
            postgresql_where=sa.text("status = 1"),
        )
        batch_op.create_index(
            "ix_deliveries_endpoint", ["endpoint_id", "status", "msg_id"], unique=False
        )
        batch_op.create_index(
            "ix_deliveries_endpoint_due",
            ["endpoint_id", "next_attempt_at"],
            unique=False,
            sqlite_where=sa.text("status = 1"),
            postgresql_where=sa.text("status = 1"),
        )
        batch_op.create_index(
            "ix_deliveries_leased",
            ["lease_until"],
            unique=False,
            sqlite_where=sa.text("status = 3"),
            postgresql_where=sa.text("status = 3"),
        )
        batch_op.create_index(
            "ix_deliveries_unfinished",
            ["msg_id"],
            unique=False,
            sqlite_where=sa.text("status IN (1, 3)"),
            postgresql_where=sa.text("status IN (1, 3)"),
        )

    op.create_table(
        "endpoint_state",
        sa.Column("endpoint_id", sa.String(length=40), nullable=False),
        sa.Column("ready_at", sa.BigInteger(), nullable=True),
        sa.Column("served_at", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("first_failure_at", sa.BigInteger(), nullable=True),
        sa.Column("open_until", sa.BigInteger(), nullable=True),
        sa.Column("tokens", sa.Float(), nullable=True),
        sa.Column("tokens_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["endpoint_id"], ["endpoints.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("endpoint_id"),
    )
    with op.batch_alter_table("endpoint_state", schema=None) as batch_op:
        batch_op.create_index("ix_endpoint_state_ready", ["ready_at"], unique=False)

    op.create_table(
        "inbound_requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("source_id", sa.String(length=40), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("remote_ip", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(length=256), nullable=True),
        sa.Column("event_type", sa.String(length=256), nullable=True),
        sa.Column("msg_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["msg_id"], ["messages.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("inbound_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inbound_requests_dedup", ["source_id", "dedup_key", "received_at"], unique=False
        )
        batch_op.create_index("ix_inbound_requests_msg", ["msg_id"], unique=False)
        batch_op.create_index(
            "ix_inbound_requests_outcome", ["source_id", "outcome", "id"], unique=False
        )
        batch_op.create_index("ix_inbound_requests_source", ["source_id", "id"], unique=False)

    op.create_table(
        "message_versions",
        sa.Column("msg_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["msg_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("msg_id", "version"),
    )


def downgrade() -> None:
    op.drop_table("message_versions")
    with op.batch_alter_table("inbound_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_requests_source")
        batch_op.drop_index("ix_inbound_requests_outcome")
        batch_op.drop_index("ix_inbound_requests_msg")
        batch_op.drop_index("ix_inbound_requests_dedup")

    op.drop_table("inbound_requests")
    with op.batch_alter_table("endpoint_state", schema=None) as batch_op:
        batch_op.drop_index("ix_endpoint_state_ready")

    op.drop_table("endpoint_state")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_deliveries_unfinished",
            sqlite_where=sa.text("status IN (1, 3)"),
            postgresql_where=sa.text("status IN (1, 3)"),
        )
        batch_op.drop_index(
            "ix_deliveries_leased",
            sqlite_where=sa.text("status = 3"),
            postgresql_where=sa.text("status = 3"),
        )
        batch_op.drop_index(
            "ix_deliveries_endpoint_due",
            sqlite_where=sa.text("status = 1"),
            postgresql_where=sa.text("status = 1"),
        )
        batch_op.drop_index("ix_deliveries_endpoint")
        batch_op.drop_index(
            "ix_deliveries_due",
            sqlite_where=sa.text("status = 1"),
            postgresql_where=sa.text("status = 1"),
        )

    op.drop_table("deliveries")
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_attempts_msg")
        batch_op.drop_index("ix_attempts_endpoint")

    op.drop_table("attempts")
    op.drop_table("sources")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_messages_payload_expiry",
            sqlite_where=sa.text("payload IS NOT NULL"),
            postgresql_where=sa.text("payload IS NOT NULL"),
        )
        batch_op.drop_index("ix_messages_app")

    op.drop_table("messages")
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.drop_index("ix_endpoints_app")

    op.drop_table("endpoints")
    op.drop_table("server_keys")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_idempotency_expires")

    op.drop_table("idempotency_keys")
    op.drop_table("event_types")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_kind")

    op.drop_table("applications")
