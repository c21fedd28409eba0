"""The message-create transaction's statements, on a synchronous connection.

They run inside ``Database.run_write`` (on SQLite: the writer thread), for a whole group of
creates at once: messages and deliveries are inserted with one multi-row statement each.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, insert, select, tuple_

from hookd.core.domain import Application, Endpoint
from hookd.store.applications import app_insert, app_lookup, pick_app
from hookd.store.endpoints import endpoint_from_row
from hookd.store.scheduling import earliest, mark_ready_sync
from hookd.store.schema import deliveries, endpoints, message_versions, messages


def find_app(conn: Connection, id_or_uid: str) -> Application | None:
    return pick_app(conn.execute(app_lookup(id_or_uid)).all(), id_or_uid)


def insert_app(conn: Connection, app: Application) -> None:
    conn.execute(app_insert(app))


def app_endpoints(conn: Connection, app_id: str) -> list[Endpoint]:
    rows = conn.execute(select(endpoints).where(endpoints.c.app_id == app_id)).all()
    return [endpoint_from_row(row) for row in rows]


def taken_event_ids(conn: Connection, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which ``(app_id, event_id)`` pairs already have a message."""
    wanted = list(keys)
    if not wanted:
        return set()
    m = messages.c
    query = select(m.app_id, m.event_id).where(tuple_(m.app_id, m.event_id).in_(wanted))
    return {(row.app_id, row.event_id) for row in conn.execute(query)}


def insert_rows(
    conn: Connection,
    message_rows: list[dict[str, Any]],
    delivery_rows: list[dict[str, Any]],
    version_rows: list[dict[str, Any]],
) -> None:
    if message_rows:
        conn.execute(insert(messages), message_rows)
    if version_rows:
        conn.execute(insert(message_versions), version_rows)
    if delivery_rows:
        conn.execute(insert(deliveries), delivery_rows)
        mark_ready_sync(
            conn, earliest((r["endpoint_id"], r["next_attempt_at"]) for r in delivery_rows)
        )
