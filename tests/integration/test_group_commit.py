"""Group commit on a real database: a job that breaks the shared transaction fails alone
(generic jobs, and the requests ``/in/{source}`` accepts)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

from hookd import ids
from hookd.config import Settings
from hookd.core.domain import ACCEPTED, InboundRecord
from hookd.services.applications import new_app
from hookd.services.context import Context
from hookd.services.ingest.forwarding import Arrival, store_request
from hookd.services.ingest.sources import create_source
from hookd.store import applications
from hookd.store.db import Database
from hookd.store.group_commit import GroupCommit
from hookd.store.schema import applications as apps_table
from hookd.store.schema import inbound_requests, messages
from tests import pg


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with pg.migrated_database(request.param, tmp_path / "group.db") as database:
        yield database


def _insert_apps(conn: Connection, uids: Sequence[str]) -> list[str | Exception]:
    """Insert one application per uid: a uid that exists breaks the whole transaction."""
    outcomes: list[str | Exception] = []
    now = datetime.now(UTC)
    for uid in uids:
        if uid.startswith("refuse"):
            outcomes.append(ValueError(f"refused {uid}"))  # refused before writing anything
            continue
        conn.execute(applications.app_insert(new_app({"name": uid}, uid, now)))
        outcomes.append(uid)
    return outcomes


async def _stored_uids(db: Database) -> set[str]:
    async with db.read() as conn:
        return set((await conn.execute(select(apps_table.c.uid))).scalars())


async def test_a_failing_job_fails_alone(db: Database) -> None:
    committer = GroupCommit(db, _insert_apps)
    await committer.submit("taken")

    uids = [f"ok-{n}" for n in range(20)] + ["taken", "refuse-1"]
    outcomes = await asyncio.gather(
        *(committer.submit(uid) for uid in uids), return_exceptions=True
    )

    assert outcomes[:20] == uids[:20]
    assert isinstance(outcomes[20], IntegrityError)  # the duplicate uid, retried alone
    assert isinstance(outcomes[21], ValueError)
    assert await _stored_uids(db) == {"taken", *uids[:20]}


async def test_run_write_commits_or_rolls_back_as_a_whole(db: Database) -> None:
    def half_then_fail(conn: Connection) -> None:
        _insert_apps(conn, ["half"])
        raise RuntimeError("boom")

    before = db.config_version
    with pytest.raises(RuntimeError):
        await db.run_write(half_then_fail)
    assert db.config_version > before  # a cache must forget what the rollback undid
    assert await db.run_write(lambda conn: _insert_apps(conn, ["whole"])) == ["whole"]
    assert await _stored_uids(db) == {"whole"}


def _request(source_id: str, dedup_key: str, now: datetime, request_id: str = "") -> InboundRecord:
    return InboundRecord(
        id=request_id or ids.new_id(ids.REQUEST, now),
        source_id=source_id,
        received_at=now,
        method="POST",
        url="http://hookd.test/in/x",
        path="/in/x",
        query="",
        headers=(("content-type", "application/json"),),
        body=b'{"id": "%s"}' % dedup_key.encode(),
        remote_ip="127.0.0.1",
        outcome=ACCEPTED,
        code="verified",
        reason="",
        response_status=200,
        dedup_key=dedup_key,
        event_type="stripe.charge.succeeded",
        msg_id=None,
    )


async def test_an_ingest_group_that_fails_is_stored_request_by_request(db: Database) -> None:
    ctx = Context(db, Settings(database_url=db.url))
    fields = {"name": "s", "type": "stripe", "config": {"secret": "whsec_group"}}
    source = await create_source(ctx, fields)
    now = datetime.now(UTC)
    since = now - timedelta(hours=1)
    first = _request(source.id, "evt_first", now)
    await store_request(ctx, Arrival(source, first, since))

    # A record id already taken breaks the group's transaction; the group is retried request
    # by request: the clash fails alone, the copies of one event are accepted once, a copy of
    # the already stored event is a duplicate.
    group = [_request(source.id, "evt_same", now) for _ in range(3)]
    group += [_request(source.id, "evt_first", now), _request(source.id, "x", now, first.id)]
    group += [_request(source.id, f"evt_{n}", now) for n in range(3)]
    outcomes = await asyncio.gather(
        *(store_request(ctx, Arrival(source, record, since)) for record in group),
        return_exceptions=True,
    )

    assert isinstance(outcomes[4], IntegrityError)
    stored = [outcome for outcome in outcomes if isinstance(outcome, tuple)]
    assert stored == [("accepted", 0), *[("duplicate", 0)] * 3, *[("accepted", 0)] * 3]
    r = inbound_requests.c
    async with db.read() as conn:
        kept = (await conn.execute(select(r.outcome, r.msg_id))).all()
        messages_kept = (await conn.execute(select(func.count()).select_from(messages))).scalar()
    assert sorted(outcome for outcome, _ in kept) == ["accepted"] * 5 + ["duplicate"] * 3
    assert all((msg_id is None) == (outcome == "duplicate") for outcome, msg_id in kept)
    assert messages_kept == 5
