"""Idempotency-Key records, a group's claims and outcomes per transaction, on both databases;
and the keys of message creates, answered in the creates' own transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection

from hookd.core.domain import Message
from hookd.services.create_keys import GroupKeys, KeyHeld, KeyMismatch, KeyRequest
from hookd.services.errors import NotFound
from hookd.store.db import Database
from hookd.store.idempotency import STALE_START_MS, KeyClaim, KeyOutcome, claim_keys, settle_keys
from tests import pg

NOW = 1_800_000_000_000
TTL = 43_200_000


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with pg.migrated_database(request.param, tmp_path / "keys.db") as database:
        yield database


def claim(key: str, now: int = NOW, fingerprint: str = "fp") -> KeyClaim:
    return KeyClaim(key, now, now + TTL, fingerprint)


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


def _message(msg_id: str) -> Message:
    return Message(
        id=msg_id,
        app_id="app_1",
        event_type="a.b",
        event_id=None,
        channels=None,
        tags=None,
        payload=b"{}",
        created_at=datetime.fromtimestamp(NOW / 1000, UTC),
    )


def _request(key: str, fingerprint: str = "fp") -> KeyRequest:
    return KeyRequest(key, lambda message: f'{{"id":"{message.id}"}}'.encode(), fingerprint)


async def test_a_create_groups_keys_are_answered_in_its_transaction(db: Database) -> None:
    requests = [_request("k1"), _request("k2"), _request("k1"), None]

    def create(conn: Connection) -> list[Any]:
        keys = GroupKeys(conn, requests, [NOW] * len(requests))
        assert keys.refusal(0) is None and keys.refusal(1) is None and keys.refusal(3) is None
        outcomes: list[Any] = [(_message("msg_1"), 1), NotFound("no app"), keys.refusal(2), None]
        return keys.settle(conn, outcomes)

    outcomes = await db.run_write(create)
    # The repeated key gets the first create's answer; a refused create frees its key.
    assert isinstance(outcomes[2], KeyHeld) and outcomes[2].body == b'{"id":"msg_1"}'
    assert (outcomes[2].state, outcomes[2].status_code) == ("done", 201)

    def again(conn: Connection) -> list[Exception | None]:
        keys = GroupKeys(conn, [_request("k1"), _request("k2")], [NOW, NOW])
        return [keys.refusal(0), keys.refusal(1)]

    held, free = await db.run_write(again)
    assert isinstance(held, KeyHeld) and held.body == b'{"id":"msg_1"}'
    assert free is None


async def test_a_key_another_request_still_runs_is_refused_as_running(db: Database) -> None:
    await db.run_write(lambda c: claim_keys(c, [claim("running")]))
    refusal = await db.run_write(lambda c: GroupKeys(c, [_request("running")], [NOW]).refusal(0))
    assert isinstance(refusal, KeyHeld) and refusal.state == "started"


async def test_a_key_reused_for_another_request_is_a_mismatch(db: Database) -> None:
    """Held by an earlier group, or by an earlier create of the same group: a create whose
    fingerprint differs is refused with KeyMismatch, and the key keeps its first answer."""
    requests = [_request("k", "body-1"), _request("k", "body-2"), _request("k", "body-1")]

    def create(conn: Connection) -> list[Any]:
        keys = GroupKeys(conn, requests, [NOW] * len(requests))
        assert keys.refusal(0) is None
        assert isinstance(keys.refusal(1), KeyMismatch)
        outcomes: list[Any] = [(_message("msg_1"), 1), keys.refusal(1), keys.refusal(2)]
        return keys.settle(conn, outcomes)

    outcomes = await db.run_write(create)
    assert isinstance(outcomes[1], KeyMismatch) and outcomes[1].status_code == 422
    assert outcomes[1].code == "idempotency_key_mismatch"
    assert isinstance(outcomes[2], KeyHeld) and outcomes[2].body == b'{"id":"msg_1"}'

    def again(conn: Connection) -> list[Exception | None]:
        keys = GroupKeys(conn, [_request("k", "body-2"), _request("k", "body-1")], [NOW, NOW])
        return [keys.refusal(0), keys.refusal(1)]

    mismatch, held = await db.run_write(again)
    assert isinstance(mismatch, KeyMismatch)
    assert isinstance(held, KeyHeld) and held.body == b'{"id":"msg_1"}'
    [row] = await db.run_write(lambda c: claim_keys(c, [claim("k", fingerprint="body-2")]))
    assert row is not None and row.fingerprint == "body-1"
