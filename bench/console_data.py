"""A big message log for the console's page times: N messages written through the store's own
row builders and bulk insert into a fresh hookd SQLite file.

The schema and the application with its endpoints come from :mod:`bench.backlog`; each message
(``hookd.store.messages.message_values``) has one delivery (``new_delivery_rows``), finished:
nine in ten succeeded, one in ten failed, so ``hookd serve`` has nothing to send. The messages'
times spread over the last 30 days (their ids carry them, as hookd's do). One message, the
newest, also has attempts, so its page shows some. Rows go in with ``hookd.store.row_inserts``'s
``insert_many`` (the driver's ``executemany``), 50,000 messages per transaction.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, event

from bench.backlog import app_and_endpoints
from bench.payload import EVENT_TYPE, payload_bytes
from hookd import ids
from hookd.core.domain import DeliveryStatus, Message
from hookd.store.deliveries import new_delivery_rows
from hookd.store.messages import message_values
from hookd.store.row_inserts import insert_many
from hookd.store.schema import attempts, deliveries, messages

BATCH = 50_000
SPREAD = timedelta(days=30)
PAYLOAD_BYTES = 256
ATTEMPTS_SHOWN = 5
EVENT_TYPES = (EVENT_TYPE, "invoice.created", "customer.updated", "order.shipped")


@dataclass(frozen=True, slots=True)
class MessageLog:
    app_id: str
    endpoint_ids: list[str]
    detail_msg_id: str
    messages: int
    seconds: float
    db_bytes: int


def build_message_log(db_path: Path, *, messages_count: int, urls: list[str]) -> MessageLog:
    started = time.monotonic()
    now = datetime.now(UTC)
    app_id, endpoint_ids = app_and_endpoints(db_path, urls, now)
    body = payload_bytes(PAYLOAD_BYTES)
    engine = create_engine(f"sqlite:///{db_path}")

    @event.listens_for(engine, "connect")
    def _fast(dbapi_connection: object, _: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()

    step = SPREAD / max(messages_count, 1)
    oldest = now - SPREAD
    last_id = ""
    try:
        for start in range(0, messages_count, BATCH):
            message_rows, delivery_rows = [], []
            for number in range(start, min(start + BATCH, messages_count)):
                created = oldest + step * number
                created_ms = int(created.timestamp() * 1000)
                msg = Message(
                    id=ids.new_id(ids.MESSAGE, created),
                    app_id=app_id,
                    event_type=EVENT_TYPES[number % len(EVENT_TYPES)],
                    event_id=f"evt-{number}",
                    channels=None,
                    tags=("bench",) if number % 2 else None,
                    payload=body,
                    created_at=created,
                )
                message_rows.append(message_values(msg))
                (row,) = new_delivery_rows(
                    [ids.new_id(ids.DELIVERY, created)],
                    msg.id,
                    app_id,
                    [endpoint_ids[number % len(endpoint_ids)]],
                    created_ms,
                )
                failed = number % 10 == 0
                row.update(
                    status=int(DeliveryStatus.FAIL if failed else DeliveryStatus.SUCCESS),
                    attempts=4 if failed else 1,
                    next_attempt_at=None,
                )
                delivery_rows.append(row)
                last_id = msg.id
            with engine.begin() as conn:
                insert_many(conn, messages, message_rows)
                insert_many(conn, deliveries, delivery_rows)
        newest = messages_count - 1
        with engine.begin() as conn:
            insert_many(
                conn,
                attempts,
                [
                    {
                        "id": ids.new_id(ids.ATTEMPT, now),
                        "msg_id": last_id,
                        "endpoint_id": endpoint_ids[newest % len(endpoint_ids)],
                        "app_id": app_id,
                        "url": urls[newest % len(urls)],
                        "status": int(DeliveryStatus.FAIL),
                        "response_status_code": 500,
                        "response": '{"error": "upstream unavailable"}',
                        "response_duration_ms": 12,
                        "trigger_type": 0,
                        "attempt_number": number,
                        "created_at": int(now.timestamp() * 1000),
                    }
                    for number in range(1, ATTEMPTS_SHOWN + 1)
                ],
            )
    finally:
        engine.dispose()
    with contextlib.closing(sqlite3.connect(db_path)) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return MessageLog(
        app_id=app_id,
        endpoint_ids=endpoint_ids,
        detail_msg_id=last_id,
        messages=messages_count,
        seconds=time.monotonic() - started,
        db_bytes=db_path.stat().st_size,
    )
