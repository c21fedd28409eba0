"""Alembic environment: migrations run on the connection hookd hands over (see store/migrate.py)."""

from __future__ import annotations

from alembic import context

from hookd.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `hookd migrate` (hookd.store.migrate)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite alters tables by copying them; batch mode makes the same scripts work on both.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
