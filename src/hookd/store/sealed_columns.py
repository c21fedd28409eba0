"""Every sealed column, the start-up check of the main key, and re-sealing in batches.

``check_main_key`` runs when a process starts: the ``server_keys`` row ``main_key_check``
holds a known value sealed with the main key; if it does not open with the configured keys the
process refuses to start (``SealError`` with the key ids). Without that row (a new database, or
one written before hookd sealed secrets) every plain value is sealed first, then the row is
written: that is how an existing database's plain secrets are migrated (at first start, by the
process that has the key; an Alembic script has no key).

``reseal`` (``hookd rotate-main-key``) seals every value that is plain or under another key than
the first configured one again, in batches of one short transaction each, while hookd runs: the
processes hold both keys meanwhile (``HOOKD_MAIN_KEY=new,old``).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Column, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.store import sealing
from hookd.store.db import Database
from hookd.store.schema import alert_channels, endpoints, idempotency_keys, server_keys, sources

CHECK_NAME = "main_key_check"
CHECK_VALUE = b"hookd main key check"
KEY_PURPOSE = "server_keys.key"


@dataclass(frozen=True, slots=True)
class SealedColumn:
    table: Table
    key: str  # the primary key column
    name: str
    kind: str  # "text", "json" or "bytes" (see sealing.reseal)
    seal_plain: bool = True  # False: plain values stay plain (message creates' kept answers)

    @property
    def purpose(self) -> str:
        return f"{self.table.name}.{self.name}"

    @property
    def column(self) -> Column[object]:
        return self.table.c[self.name]


SEALED_COLUMNS = (
    SealedColumn(endpoints, "id", "secret", "text"),
    SealedColumn(endpoints, "id", "old_secrets", "json"),
    SealedColumn(endpoints, "id", "headers", "json"),
    SealedColumn(endpoints, "id", "auth", "json"),
    SealedColumn(endpoints, "id", "tls", "json"),
    SealedColumn(sources, "id", "config", "json"),
    SealedColumn(alert_channels, "id", "config", "json"),
    SealedColumn(server_keys, "name", "key", "bytes"),
    SealedColumn(idempotency_keys, "key", "body", "bytes", seal_plain=False),
)


@dataclass
class ResealCounts:
    resealed: Counter[str]  # purpose -> values sealed again
    plain: int = 0  # of them, values that were not sealed before


async def is_sealed(db: Database) -> bool:
    """Whether the database has been sealed (holds the check value)."""
    check = server_keys.c
    async with db.read() as conn:
        query = select(check.name).where(check.name == CHECK_NAME)
        return (await conn.execute(query)).first() is not None


async def check_main_key(db: Database, *, batch_size: int = 500) -> ResealCounts | None:
    """Refuse a main key that is not the database's (``SealError``); on a database without the
    check value, seal every plain value and write the check value. Returns what was sealed
    then (``None`` when the database was already sealed)."""
    check = server_keys.c
    async with db.read() as conn:
        found = (
            await conn.execute(select(check.key).where(check.name == CHECK_NAME))
        ).scalar_one_or_none()
    if found is not None:
        if sealing.open_bytes(found, KEY_PURPOSE) != CHECK_VALUE:
            raise sealing.SealError("the main key check value is not hookd's")
        return None
    counts = await reseal(db, batch_size=batch_size, only_plain=True)
    if counts.plain and db.is_sqlite:
        # The plain values are still in the file's free pages and in the WAL: rewrite both.
        await asyncio.to_thread(compact_sqlite, db.url.split(":///", 1)[-1])
    sealed = sealing.seal_bytes(CHECK_VALUE, KEY_PURPOSE)
    async with db.write() as conn:
        # Processes starting together on PostgreSQL: the first one's row stays.
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        row = {"name": CHECK_NAME, "key": sealed, "created_at": 0}
        await conn.execute(dialect.insert(server_keys).values(row).on_conflict_do_nothing())
    return counts


def compact_sqlite(path: str) -> None:
    """Checkpoint and empty the WAL, rewrite the file (``VACUUM``), and empty the WAL again."""
    if not path or path == ":memory:":
        return
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


async def reseal(db: Database, *, batch_size: int = 500, only_plain: bool = False) -> ResealCounts:
    """Seal every plain value (and, unless ``only_plain``, every value under another key than
    the primary one) under the primary key, ``batch_size`` rows per transaction."""
    counts = ResealCounts(Counter())
    primary = sealing.current().primary_id
    for spec in SEALED_COLUMNS:
        if only_plain and not spec.seal_plain:
            continue
        after: str | None = None
        while True:
            async with db.write() as conn:
                after = await _reseal_batch(
                    conn, spec, after, batch_size, primary, only_plain, counts
                )
            if after is None:
                break
    return counts


async def _reseal_batch(
    conn: AsyncConnection,
    spec: SealedColumn,
    after: str | None,
    batch_size: int,
    primary: str,
    only_plain: bool,
    counts: ResealCounts,
) -> str | None:
    """One batch after the key ``after``; the last key seen, or ``None`` at the end."""
    key = spec.table.c[spec.key]
    query = select(key, spec.column).order_by(key).limit(batch_size)
    if after is not None:
        query = query.where(key > after)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()  # no other writer changes the rows in between
    rows = (await conn.execute(query)).all()
    for row_key, value in rows:
        kid = sealing.sealed_key_id(value)
        if value is None or kid == primary or (kid is None and not spec.seal_plain):
            continue
        if kid is not None and only_plain:
            continue
        new = sealing.reseal(value, spec.kind, spec.purpose)
        await conn.execute(update(spec.table).where(key == row_key).values({spec.name: new}))
        counts.resealed[spec.purpose] += 1
        counts.plain += kid is None
    return rows[-1][0] if len(rows) == batch_size else None


async def key_ids_in_use(db: Database) -> Counter[str]:
    """How many stored values each key id seals (``"plain"``: values not sealed)."""
    seen: Counter[str] = Counter()
    async with db.read() as conn:
        for spec in SEALED_COLUMNS:
            for (value,) in await conn.execute(select(spec.column).where(spec.column.is_not(None))):
                kid = sealing.sealed_key_id(value)
                if kid is not None or spec.seal_plain:
                    seen[kid or "plain"] += 1
    return seen
