"""Retention on SQLite and PostgreSQL: payloadRetentionPeriod, `hookd prune`, the worker's prune."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from svix.api import ApplicationIn, EndpointIn, MessageIn

from hookd.config import Settings
from hookd.services.context import Context, utc_now
from hookd.services.errors import NotFound
from hookd.services.messages import crud as messages
from hookd.store.db import Database
from tests.conftest import svix_for
from tests.launcher import run_hookd
from tests.pg import create_database, drop_database, migrate_database
from tests.support import NewServer, Receiver, eventually

DAY = timedelta(days=1)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'retention.db'}"
        migrate_database(url)
        yield url
        return
    url = create_database()
    yield url
    drop_database(url)


# at(moment): a service context whose clock reads that moment.
At = Callable[[datetime], Context]


@pytest.fixture
async def at(database_url: str) -> AsyncIterator[At]:
    """Service contexts on the test database whose clock reads a given moment."""
    db = Database(database_url)
    settings = Settings(database_url=database_url)

    def make(moment: datetime) -> Context:
        return Context(db=db, settings=settings, clock=lambda: moment)

    yield make
    await db.close()


def prune(database_url: str, *args: str) -> str:
    return run_hookd(["prune", "--database-url", database_url, *args], check=True).stdout


def counts(output: str) -> dict[str, int]:
    """`hookd prune` prints one "name   number" line per kind of row."""
    lines = [line.rsplit(None, 1) for line in output.splitlines()[1:]]
    return {name.strip(): int(value) for name, value in lines}


async def test_prune_expunges_expired_payloads_and_deletes_old_records(
    database_url: str, at: At, new_server: NewServer, receiver: Receiver
) -> None:
    now = utc_now()
    server = new_server({"HOOKD_DATABASE_URL": database_url, "HOOKD_PRUNE_INTERVAL": "0"})
    server.start()
    svix = svix_for(server)
    app = await svix.application.create(ApplicationIn(name="retention"))
    await svix.endpoint.create(app.id, EndpointIn(url=receiver.url))
    fresh = await svix.message.create(
        app.id, MessageIn(event_type="a.b", payload={"fresh": 1}, payload_retention_period=5)
    )
    # Made in the past by the same service code, with the time passed in.
    old, _ = await messages.create_message(
        at(now - 40 * DAY), app.id, payload=b'{"old": 1}', event_type="a.b"
    )
    expiring, _ = await messages.create_message(
        at(now - 6 * DAY),
        app.id,
        payload=b'{"six": 1}',
        event_type="a.b",
        payload_retention_days=5,
    )
    await receiver.wait_for(3, timeout=30)
    server.terminate()
    # Still to deliver when pruning: old, but kept (nothing accepted is lost).
    pending, _ = await messages.create_message(
        at(now - 40 * DAY), app.id, payload=b'{"pending": 1}', event_type="a.b"
    )

    expected = {
        "payloads expunged": 1,
        "messages deleted": 1,
        "attempts deleted": 1,
        "inbound requests deleted": 0,
        "idempotency keys deleted": 0,
        "counters deleted": 0,
        "alert issues deleted": 0,
    }
    assert counts(prune(database_url, "--older-than-days", "30", "--dry-run")) == expected
    assert counts(prune(database_url, "--older-than-days", "30", "--batch-size", "1")) == expected
    assert counts(prune(database_url, "--older-than-days", "30"))["messages deleted"] == 0

    ctx = at(now)
    with pytest.raises(NotFound):
        await messages.get_message(ctx, app.id, old.id)
    assert (await messages.get_message(ctx, app.id, expiring.id)).payload is None
    assert (await messages.get_message(ctx, app.id, fresh.id)).payload == b'{"fresh":1}'
    assert (await messages.get_message(ctx, app.id, pending.id)).payload == b'{"pending": 1}'


async def test_the_worker_expunges_expired_payloads_periodically(
    database_url: str, at: At, new_server: NewServer
) -> None:
    server = new_server({"HOOKD_DATABASE_URL": database_url, "HOOKD_PRUNE_INTERVAL": "0.2"})
    server.start()
    app = await svix_for(server).application.create(ApplicationIn(name="periodic"))
    expiring, _ = await messages.create_message(
        at(utc_now() - 6 * DAY),
        app.id,
        payload=b"{}",
        event_type="a.b",
        payload_retention_days=5,
    )
    ctx = at(utc_now())

    async def expunged() -> bool:
        return (await messages.get_message(ctx, app.id, expiring.id)).payload is None

    assert await eventually(expunged)


@pytest.mark.parametrize("period", [0, 4, 91, "ten"])
async def test_bad_retention_periods_are_refused(
    api: httpx.AsyncClient, app_id: str, period: object
) -> None:
    body = {"eventType": "a.b", "payload": {}, "payloadRetentionPeriod": period}
    response = await api.post(f"/api/v1/app/{app_id}/msg", json=body)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "payloadRetentionPeriod"]


def test_prune_refuses_a_bad_age(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    done = run_hookd(["prune", "--database-url", url, "--older-than-days", "0"])
    assert done.returncode == 2
    assert "older-than-days" in done.stderr


async def test_rejected_inbound_requests_are_pruned_after_their_own_retention(
    database_url: str, at: At
) -> None:
    from hookd.core.providers import Headers, InboundRequest
    from hookd.services.ingest import receive as ingest
    from hookd.services.ingest import sources
    from hookd.store.ingest import inbound_requests
    from tests.integration.inbound.signers import github_headers

    now = utc_now()
    source = await sources.create_source(
        at(now), {"name": "gh", "type": "github", "config": {"secret": "s"}}
    )

    def request(body: bytes, headers: dict[str, str], ip: str) -> InboundRequest:
        pairs = tuple((name.lower(), value) for name, value in headers.items())
        url = f"http://hookd.test/in/{source.token}"
        return InboundRequest("POST", url, f"/in/{source.token}", (), Headers(pairs), body, ip)

    body = b'{"zen": "z"}'
    signed = github_headers(body, "s", "push")
    # Made in the past by the same service code, with the time passed in.
    for moment, ip in ((now - 8 * DAY, "192.0.2.1"), (now - 6 * DAY, "192.0.2.2")):
        ctx = at(moment)
        assert (await ingest.ingest(ctx, source, request(body, {}, ip), moment)).status == 401
        answer = await ingest.ingest(ctx, source, request(body, signed, ip), moment)
        assert answer.status == 200

    async def kept() -> list[tuple[str, str | None]]:
        async with at(now).db.read() as conn:
            page = await inbound_requests.list_records(
                conn,
                source.id,
                iterator=None,
                limit=10,
                outcomes=None,
                after_id=None,
                before_id=None,
            )
        return sorted((r.outcome, r.remote_ip) for r in page.items)

    # HOOKD_REJECTED_RETENTION_DAYS=0 keeps them; the default (7 days) deletes the 8-day-old one.
    keep = run_hookd(
        ["prune", "--database-url", database_url],
        env={**os.environ, "HOOKD_REJECTED_RETENTION_DAYS": "0"},
        check=True,
    )
    assert counts(keep.stdout)["inbound requests deleted"] == 0
    assert counts(prune(database_url, "--dry-run"))["inbound requests deleted"] == 1
    assert counts(prune(database_url))["inbound requests deleted"] == 1
    assert await kept() == [
        ("accepted", "192.0.2.1"),
        ("accepted", "192.0.2.2"),
        ("rejected", "192.0.2.2"),
    ]
    # With a general retention too, both apply.
    assert counts(prune(database_url, "--older-than-days", "7", "--dry-run")) == {
        "payloads expunged": 0,
        "messages deleted": 1,
        "attempts deleted": 0,
        "inbound requests deleted": 1,
        "idempotency keys deleted": 0,
        "counters deleted": 0,
        "alert issues deleted": 0,
    }


async def test_counters_and_resolved_issues_are_pruned_after_the_stats_retention(
    database_url: str, at: At
) -> None:
    from hookd.core.alerts.rules import IssueStatus
    from hookd.core.rollups import AttemptFact
    from hookd.services.alerts import rules
    from hookd.store import rollups
    from hookd.store.alerts import records as alerts
    from hookd.store.codec import to_ms

    now = utc_now()
    ctx = at(now)
    old, recent = to_ms(now - 100 * DAY), to_ms(now - 10 * DAY)
    facts = [AttemptFact("ep_x", "app_x", moment, 0, 200, 1) for moment in (old, recent)]
    await ctx.db.run_write(lambda conn: rollups.add_attempts(conn, facts))
    requests = [("src_x", moment, "accepted") for moment in (old, recent)]
    await ctx.db.run_write(lambda conn: rollups.add_requests(conn, requests))
    rule = await rules.create_rule(ctx, {"name": "r", "kind": "endpoint_disabled"})
    async with ctx.db.write() as conn:
        for n, (status, resolved) in enumerate(
            [(IssueStatus.RESOLVED, old), (IssueStatus.RESOLVED, recent), (IssueStatus.OPEN, None)]
        ):
            await alerts.insert_issue(
                conn,
                {
                    "id": f"iss_{n}",
                    "rule_id": rule.id,
                    "subject": f"ep_{n}",
                    "kind": rule.kind.value,
                    "scope": rule.scope.value,
                    "status": status.value,
                    "value": 1.0,
                    "peak_value": 1.0,
                    "threshold": 1.0,
                    "summary": "Endpoint disabled",
                    "opened_at": old,
                    "resolved_at": resolved,
                    "updated_at": old,
                },
            )

    keep = run_hookd(
        ["prune", "--database-url", database_url],
        env={**os.environ, "HOOKD_STATS_RETENTION_DAYS": "0"},
        check=True,
    )
    assert counts(keep.stdout)["counters deleted"] == 0
    # The default (90 days) deletes the 100-day-old rows: one per counter table, one issue.
    for args in (["--dry-run"], ["--batch-size", "1"]):
        done = counts(prune(database_url, *args))
        assert (done["counters deleted"], done["alert issues deleted"]) == (2, 1)
    async with ctx.db.read() as conn:
        kept = await rollups.endpoint_sums(conn, 0, to_ms(now))
        sources = await rollups.source_sums(conn, 0, to_ms(now))
        issues = await alerts.list_issues(
            conn, statuses=None, rule_id=rule.id, iterator=None, limit=10, descending=False
        )
    assert kept["ep_x"]["success"] == 1 and sources["src_x"]["accepted"] == 1
    assert [issue.id for issue in issues.items] == ["iss_1", "iss_2"]
