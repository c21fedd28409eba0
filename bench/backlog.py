"""Write a backlog of pending deliveries straight into a fresh hookd SQLite file.

The schema comes from ``hookd migrate`` (the migrations ``hookd serve`` checks) and the ids from
``hookd.ids.new_id``; the application and endpoints go through SQLAlchemy Core (so JSON columns
are encoded as hookd encodes them), the bulk rows through ``sqlite3.executemany``.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert

from bench.hookd_server import MAIN_KEY
from bench.payload import EVENT_TYPE, payload_bytes
from hookd import ids
from hookd.core.signing import generate_hmac_secret
from hookd.store import sealing
from hookd.store.schema import applications, endpoints

BATCH = 50_000
PENDING = 1


@dataclass(frozen=True, slots=True)
class Backlog:
    app_id: str
    endpoint_ids: list[str]
    messages: int
    seconds: float
    db_bytes: int


def app_and_endpoints(db_path: Path, urls: list[str], now: datetime) -> tuple[str, list[str]]:
    """A migrated SQLite file with one application and an endpoint per URL (also used by
    ``bench.console_data``)."""
    engine = create_engine(f"sqlite:///{db_path}")
    now_ms = int(now.timestamp() * 1000)
    app_id = ids.new_id(ids.APPLICATION, now)
    endpoint_ids = [ids.new_id(ids.ENDPOINT, now) for _ in urls]
    subprocess.run(
        [sys.executable, "-m", "hookd", "migrate", "--database-url", f"sqlite:///{db_path}"],
        check=True,
        capture_output=True,
    )
    ring = sealing.Keyring(sealing.parse_main_keys(MAIN_KEY))
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(applications).values(
                    id=app_id, uid="backlog", name="backlog", rate_limit=None, meta={},
                    created_at=now_ms, updated_at=now_ms,
                )
            )  # fmt: skip
            rows: list[dict[str, Any]] = [
                {
                    "id": endpoint_id, "app_id": app_id, "uid": None, "url": url,
                    "description": "", "version": 1, "disabled": False, "filter_types": None,
                    "channels": None, "rate_limit": None, "meta": {},
                    # Sealed as hookd seals them (else its first start seals and VACUUMs).
                    "headers": ring.seal(b"{}", "endpoints.headers"),
                    "secret": ring.seal(generate_hmac_secret().encode(), "endpoints.secret"),
                    "old_secrets": ring.seal(b"[]", "endpoints.old_secrets"),
                    "created_at": now_ms, "updated_at": now_ms,
                }
                for endpoint_id, url in zip(endpoint_ids, urls, strict=True)
            ]  # fmt: skip
            conn.execute(insert(endpoints), rows)
    finally:
        engine.dispose()
    return app_id, endpoint_ids


def _batches(count: int) -> Iterator[range]:
    for start in range(0, count, BATCH):
        yield range(start, min(start + BATCH, count))


def build_backlog(db_path: Path, *, messages: int, urls: list[str]) -> Backlog:
    """``messages`` messages, each with one pending delivery, round-robin over ``urls``."""
    started = time.monotonic()
    now = datetime.now(UTC)
    now_ms = int(now.timestamp() * 1000)
    app_id, endpoint_ids = app_and_endpoints(db_path, urls, now)
    body = payload_bytes()
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        for batch in _batches(messages):
            msg_ids = [ids.new_id(ids.MESSAGE, now) for _ in batch]
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO messages (id, app_id, event_type, payload, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(msg_id, app_id, EVENT_TYPE, body, now_ms) for msg_id in msg_ids],
            )
            conn.executemany(
                "INSERT INTO deliveries (id, msg_id, endpoint_id, app_id, status, attempts, "
                "next_attempt_at, manual, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, 0, ?, 0, ?, ?)",
                [
                    (
                        ids.new_id(ids.DELIVERY, now), msg_id,
                        endpoint_ids[i % len(endpoint_ids)], app_id, PENDING,
                        now_ms, now_ms, now_ms,
                    )
                    for i, msg_id in zip(batch, msg_ids, strict=True)
                ],
            )  # fmt: skip
            conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return Backlog(
        app_id=app_id,
        endpoint_ids=endpoint_ids,
        messages=messages,
        seconds=time.monotonic() - started,
        db_bytes=db_path.stat().st_size,
    )
