"""Idempotency-Key records (the protocol, Svix semantics: ``services/idempotency.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.store.schema import idempotency_keys
from hookd.store.sealing import open_bytes, seal_bytes
from hookd.store.sqlite.statements import execute_counted, execute_many

# A "started" record older than this belongs to a request that died; the key is free again.
STALE_START_MS = 60_000
# The answers of routes other than message creates are sealed (store.sealing): a secret
# rotation, for one, answers with the new secret. Message creates' answers are kept as they are.
BODY = "idempotency_keys.body"


def sealed_answer(body: bytes) -> bytes:
    return seal_bytes(body, BODY)


def answer_body(stored: bytes | None) -> bytes:
    """A kept answer's body, opened."""
    return b"" if stored is None else open_bytes(stored, BODY)


@dataclass(frozen=True, slots=True)
class KeyClaim:
    key: str
    now_ms: int
    expires_ms: int
    fingerprint: str  # the request's (``services.idempotency.fingerprint``), kept with the key


def fingerprint_differs(row: Row[Any], fingerprint: str) -> bool:
    """Whether a held key's record was claimed for another request than ``fingerprint``'s."""
    kept = row._mapping["fingerprint"]
    return kept is not None and kept != fingerprint


@dataclass(frozen=True, slots=True)
class KeyOutcome:
    """What became of a claimed key's request: its 2xx answer to keep, or ``None`` to forget
    the key (the request failed and may be retried with it)."""

    key: str
    answer: tuple[int, str, bytes] | None  # status, content type, body


def claim_keys(conn: Connection, claims: Sequence[KeyClaim]) -> list[Row[Any] | None]:
    """Mark each key as started, in order; for a key already held, its record instead (with
    its ``fingerprint``: the caller compares it with the claim's). Synchronous: a group of
    requests' claims in one transaction (``store.group_commit``)."""
    if not claims:
        return []
    execute_many(
        conn,
        _DELETE_STALE,
        [{"k": c.key, "now": c.now_ms, "stale": c.now_ms - STALE_START_MS} for c in claims],
    )
    insert = _insert_statement(conn.dialect.name)
    found: list[Row[Any] | None] = []
    for claim in claims:
        params = {
            "k": claim.key,
            "now": claim.now_ms,
            "exp": claim.expires_ms,
            "fp": claim.fingerprint,
        }
        if execute_counted(conn, insert, params) == 1:
            found.append(None)
        else:
            # Rare (a repeat or a race): the row with its names, as the callers read it.
            found.append(conn.execute(_SELECT, {"k": claim.key}).first())
    return found


def settle_keys(conn: Connection, outcomes: Sequence[KeyOutcome]) -> None:
    """Keep each 2xx answer under its key; forget the keys of requests that failed."""
    kept = [
        {"k": o.key, "s": o.answer[0], "ct": o.answer[1], "b": o.answer[2]}
        for o in outcomes
        if o.answer is not None
    ]
    execute_many(conn, _COMPLETE, kept)
    execute_many(conn, _RELEASE, [{"k": o.key} for o in outcomes if o.answer is None])


# Built once: every request with a key runs them.
_DELETE_STALE = delete(idempotency_keys).where(
    idempotency_keys.c.key == bindparam("k"),
    (idempotency_keys.c.expires_at < bindparam("now"))
    | (
        (idempotency_keys.c.state == "started")
        & (idempotency_keys.c.created_at < bindparam("stale"))
    ),
)
_SELECT = select(idempotency_keys).where(idempotency_keys.c.key == bindparam("k"))
_COMPLETE = (
    update(idempotency_keys)
    .where(idempotency_keys.c.key == bindparam("k"))
    .values(
        state="done", status_code=bindparam("s"), content_type=bindparam("ct"), body=bindparam("b")
    )
)
_RELEASE = delete(idempotency_keys).where(
    idempotency_keys.c.key == bindparam("k"), idempotency_keys.c.state == "started"
)


@lru_cache(maxsize=4)
def _insert_statement(dialect: str) -> Any:
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(idempotency_keys)
    values = {
        "key": bindparam("k"),
        "state": "started",
        "created_at": bindparam("now"),
        "fingerprint": bindparam("fp"),
    }
    return insert.values(**values, expires_at=bindparam("exp")).on_conflict_do_nothing()


async def purge_expired_keys(conn: AsyncConnection, now_ms: int) -> int:
    result = await conn.execute(
        delete(idempotency_keys).where(idempotency_keys.c.expires_at < now_ms)
    )
    return int(result.rowcount)


async def count_expired_keys(conn: AsyncConnection, now_ms: int) -> int:
    query = (
        select(func.count())
        .select_from(idempotency_keys)
        .where(idempotency_keys.c.expires_at < now_ms)
    )
    return int((await conn.execute(query)).scalar_one())
