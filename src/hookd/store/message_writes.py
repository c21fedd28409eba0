"""The message-create transaction's statements, on a synchronous connection.

They run inside ``Database.run_write`` (``store.sqlite.writer`` on SQLite), for a whole group of
creates at once: messages and deliveries are inserted with one multi-row statement each.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, exists, func, insert, or_, select, tuple_

from hookd.core.domain import Application, Endpoint
from hookd.store.applications import app_insert, app_lookup, pick_app
from hookd.store.endpoints import endpoint_from_row
from hookd.store.row_inserts import insert_many
from hookd.store.scheduling import PENDING, SENDING, earliest, mark_ready_sync, mark_served_sync
from hookd.store.schema import deliveries, endpoint_state, endpoints, message_versions, messages
from hookd.store.sqlite.statements import select_rows


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
    message = messages.c
    query = select(message.app_id, message.event_id).where(
        tuple_(message.app_id, message.event_id).in_(wanted)
    )
    return {(row.app_id, row.event_id) for row in conn.execute(query)}


def not_open_now(conn: Connection, endpoint_ids: Iterable[str], now_ms: int) -> set[str]:
    """Which of these endpoints have failed lately or have deliveries due: their new
    deliveries wait their turn in the queue (the direct hand-off would jump it)."""
    wanted = sorted(set(endpoint_ids))
    if not wanted:
        return set()
    return {row[0] for row in select_rows(conn, _NOT_OPEN, {"ids": wanted, "now": now_ms})}


def sending_counts(conn: Connection, endpoint_ids: Iterable[str]) -> dict[str, int]:
    """Each endpoint's deliveries in flight (by any process), as far as the database knows."""
    wanted = sorted(set(endpoint_ids))
    if not wanted:
        return {}
    return {row[0]: row[1] for row in select_rows(conn, _SENDING, {"ids": wanted})}


def _not_open_statement() -> Any:
    state, delivery = endpoint_state.c, deliveries.c
    # Every endpoint with a pending delivery has a state row (``mark_ready``), so the state
    # rows are enough; EXISTS stops at the first due row however long the backlog.
    due = exists().where(
        delivery.endpoint_id == state.endpoint_id,
        delivery.status == PENDING,
        delivery.next_attempt_at <= bindparam("now"),
    )
    ids: Any = bindparam("ids", expanding=True)
    return select(state.endpoint_id).where(
        state.endpoint_id.in_(ids), or_(state.failures != 0, due)
    )


# Built once: it runs in every create transaction that may hand off.
_NOT_OPEN = _not_open_statement()
_SENDING = (
    select(deliveries.c.endpoint_id, func.count())
    .where(
        deliveries.c.endpoint_id.in_(bindparam("ids", expanding=True)),
        deliveries.c.status == SENDING,
    )
    .group_by(deliveries.c.endpoint_id)
)


def insert_rows(
    conn: Connection,
    message_rows: list[dict[str, Any]],
    delivery_rows: list[dict[str, Any]],
    version_rows: list[dict[str, Any]],
) -> None:
    insert_many(conn, messages, message_rows)
    if version_rows:
        conn.execute(insert(message_versions), version_rows)
    if delivery_rows:
        insert_many(conn, deliveries, delivery_rows)
        # Deliveries handed to the worker are already claimed: only queued ones need a turn.
        queued = (r for r in delivery_rows if r["status"] == PENDING)
        mark_ready_sync(conn, earliest((r["endpoint_id"], r["next_attempt_at"]) for r in queued))
        started = [r for r in delivery_rows if r["status"] == SENDING]
        if started:
            mark_served_sync(conn, (r["endpoint_id"] for r in started), started[0]["updated_at"])
