"""Idempotency-Key records, a group's claims and outcomes per transaction, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hookd.store.db import Database
from hookd.store.idempotency import STALE_START_MS, KeyClaim, KeyOutcome, claim_keys, settle_keys
from tests import pg

NOW = 1_800_000_000_000
TTL = 43_200_000


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with pg.migrated_database(request.param, tmp_path / "keys.db") as database:
        yield database


def claim(key: str, now: int = NOW) -> KeyClaim:
    return KeyClaim(key, now, now + TTL)


async def test_a_group_claims_new_keys_and_sees_held_ones(db: Database) -> None:
    first = await db.run_write(lambda c: claim_keys(c, [claim("a"), claim("b"), claim("a")]))
    assert first[:2] == [None, None]
    assert first[2] is not None and first[2]._mapping["state"] == "started"  # held in the group

    answer = (201, "application/json", b'{"id": "msg_1"}')
    await db.run_write(lambda c: settle_keys(c, [KeyOutcome("a", answer), KeyOutcome("b", None)]))
    again = await db.run_write(lambda c: claim_keys(c, [claim("a"), claim("b")]))
    done = again[0]
    assert done is not None
    assert (done.state, done.status_code, done.content_type, bytes(done.body)) == ("done", *answer)
    assert again[1] is None  # a failed request's key was forgotten: claimed anew


async def test_expired_and_abandoned_keys_are_free_again(db: Database) -> None:
    await db.run_write(lambda c: claim_keys(c, [claim("done"), claim("abandoned")]))
    answer = (200, "application/json", b"{}")
    await db.run_write(lambda c: settle_keys(c, [KeyOutcome("done", answer)]))
    later = NOW + STALE_START_MS + 1
    found = await db.run_write(
        lambda c: claim_keys(c, [claim("done", later), claim("abandoned", later)])
    )
    assert found[0] is not None  # answered, and within its 12 hours
    assert found[1] is None  # started long ago by a request that died
    expired = await db.run_write(lambda c: claim_keys(c, [claim("done", NOW + TTL + 1)]))
    assert expired == [None]
