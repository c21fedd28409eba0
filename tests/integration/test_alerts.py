"""Alert rules, their issues and the evaluator, against real servers on SQLite and PostgreSQL.

A failure-rate rule on a failing endpoint opens (and escalates) an issue, which resolves itself
once the endpoint recovers (notices recorded by an evaluator run in this process on the server's
database); an oldest-due-age rule and a duplicates rule evaluated by the servers themselves; one
evaluator at a time across processes (the lease), also when its holder dies; bad input.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from hookd.config import Settings
from hookd.core.domain import ListQuery
from hookd.engine.alerts.evaluator import AlertEvaluator
from hookd.services import applications
from hookd.services.alerts import issues, rules
from hookd.services.alerts.evaluate import LEASE, evaluate, take_lease
from hookd.services.alerts.notice import AlertNotice
from hookd.services.context import Context
from hookd.services.endpoints import crud as endpoints
from hookd.store import leases
from hookd.store.db import Database
from hookd.store.migrate import upgrade
from tests.integration.engine_support import (
    ServerFactory,
    client,
    create_app,
    create_endpoint,
    engine_server,
    gated_receiver,
    send,
)
from tests.integration.inbound.signers import github_headers
from tests.pg import create_database, drop_database
from tests.support import HookdServer, NewServer, Receiver, eventually

__all__ = ["engine_server"]

FAST = {"HOOKD_ALERT_INTERVAL": "0.2"}
GITHUB_SECRET = "alert-secret"


def database_url(server: HookdServer) -> str:
    return server.env.get("HOOKD_DATABASE_URL") or f"sqlite:///{server.data_dir / 'hookd.db'}"


class Recorder:
    """A ``notify`` that keeps every notice."""

    def __init__(self) -> None:
        self.notices: list[tuple[AlertNotice, tuple[str, ...]]] = []
        self._changed = asyncio.Event()

    async def __call__(self, ctx: Context, notice: AlertNotice, channels: Sequence[str]) -> None:
        self.notices.append((notice, tuple(channels)))
        self._changed.set()

    @property
    def events(self) -> list[str]:
        return [notice.event for notice, _ in self.notices]

    async def wait_for(self, done: Callable[[], bool]) -> None:
        async with asyncio.timeout(60):  # a guard against hanging, not a timing assertion
            while not done():
                self._changed.clear()
                await self._changed.wait()


async def create_rule(api: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    answer = await api.post("/api/v1/alert/rule", json={"name": "rule", **fields})
    assert answer.status_code == 201, answer.text
    rule: dict[str, Any] = answer.json()
    return rule


async def issue_of(api: httpx.AsyncClient, rule_id: str, *statuses: str) -> dict[str, Any]:
    """The rule's only issue, once it has one in one of ``statuses``."""

    async def found() -> dict[str, Any] | None:
        page = (await api.get("/api/v1/alert/issue", params={"rule_id": rule_id})).json()
        assert len(page["data"]) <= 1, page
        matching = [issue for issue in page["data"] if issue["status"] in statuses]
        return matching[0] if matching else None

    issue: dict[str, Any] = await eventually(found, timeout=60)
    return issue


async def test_a_failing_endpoint_opens_an_issue_that_resolves_itself(
    engine_server: ServerFactory, receiver: Receiver
) -> None:
    # The server evaluates nothing; an evaluator in this process does, on its database.
    server = engine_server({"HOOKD_ALERT_INTERVAL": "0"})
    db = Database(database_url(server))
    settings = Settings(database_url=database_url(server), public_url="https://hooks.example.com")
    recorder = Recorder()
    evaluator = AlertEvaluator(Context(db=db, settings=settings), notify=recorder, interval=0.1)
    receiver.default = 500
    async with client(server) as api:
        app_id = await create_app(api, "alerting")
        endpoint = await create_endpoint(api, app_id, url=receiver.url)
        rule = await create_rule(
            api,
            name="payments failing",
            kind="failure_rate",
            scope="endpoint",
            scopeId=endpoint["id"],
            threshold=50,
            minVolume=2,
            windowSeconds=60,
            escalateThreshold=90,
            quietPeriodSeconds=1,
        )
        for n in range(3):
            await send(api, app_id, n)
        evaluator.start()
        try:
            await recorder.wait_for(lambda: len(recorder.notices) >= 2)
            assert recorder.events == ["opened", "escalated"]  # 100% is past 90% at once
            notice, channels = recorder.notices[0]
            assert channels == ()
            assert notice.rule_id == rule["id"] and notice.rule_name == "payments failing"
            assert notice.kind == "failure_rate" and notice.scope == "endpoint"
            assert notice.affected == (endpoint["id"],)
            assert notice.summary.startswith("Failure rate 100% ≥ 50% over 1 min (")
            assert notice.link == (
                f"https://hooks.example.com/api/v1/app/{app_id}/attempt/endpoint/"
                f"{endpoint['id']}?status=2"
            )
            assert notice.resolved_at is None

            issue = await issue_of(api, rule["id"], "open")
            assert issue["id"] == notice.issue_id and issue["escalated"] is True
            assert issue["affected"] == [endpoint["id"]] and issue["appId"] == app_id
            assert issue["ruleName"] == "payments failing" and issue["threshold"] == 50
            assert issue["value"] == 100
            # The server has no HOOKD_PUBLIC_URL: its answers carry the path.
            assert notice.link == "https://hooks.example.com" + issue["link"]
            acknowledged = await api.post(f"/api/v1/alert/issue/{issue['id']}/acknowledge")
            assert acknowledged.status_code == 200, acknowledged.text
            assert acknowledged.json()["status"] == "acknowledged"
            assert acknowledged.json()["acknowledgedAt"] is not None

            receiver.default = 204  # the endpoint recovers: retries and new messages succeed
            for n in range(30):
                await send(api, app_id, 100 + n)
            await recorder.wait_for(lambda: "resolved" in recorder.events)
            assert recorder.events == ["opened", "escalated", "resolved"]
            resolved, _ = recorder.notices[-1]
            assert resolved.issue_id == issue["id"] and resolved.resolved_at is not None
            answer = (await api.get(f"/api/v1/alert/issue/{issue['id']}")).json()
            assert answer["status"] == "resolved" and answer["resolvedAt"] is not None
            again = await api.post(f"/api/v1/alert/issue/{issue['id']}/acknowledge")
            assert again.status_code == 409 and again.json()["code"] == "issue_resolved"
        finally:
            await evaluator.stop()
            await db.close()


async def test_deliveries_falling_behind_open_an_oldest_due_issue(
    engine_server: ServerFactory,
) -> None:
    server = engine_server(FAST)
    async with gated_receiver() as (receiver, gate), client(server) as api:
        app_id = await create_app(api, "behind")
        # One delivery at a time: while the receiver holds the first, the others wait, due.
        endpoint = await create_endpoint(api, app_id, url=receiver.url, fifo=True)
        rule = await create_rule(
            api,
            kind="oldest_due_age",
            scope="application",
            scopeId=app_id,
            threshold=1,
            quietPeriodSeconds=0,
        )
        for n in range(3):
            await send(api, app_id, n)
        issue = await issue_of(api, rule["id"], "open")
        assert issue["kind"] == "oldest_due_age" and issue["value"] >= 1
        assert issue["affected"] == [endpoint["id"]]
        assert issue["summary"].startswith("Oldest due delivery waiting ")
        assert issue["link"] == f"/api/v1/app/{app_id}/endpoint/{endpoint['id']}/msg?status=1"
        pending = await api.get(issue["link"])  # the link lists the waiting messages
        assert pending.status_code == 200 and len(pending.json()["data"]) == 2
        gate.released.set()
        await receiver.wait_for(3)
        resolved = await issue_of(api, rule["id"], "resolved")
        assert resolved["id"] == issue["id"] and resolved["clearedAt"] is not None


async def test_a_webhook_received_twice_opens_a_duplicates_issue(
    engine_server: ServerFactory,
) -> None:
    server = engine_server(FAST)
    async with client(server) as api:
        uid = f"dup-{uuid.uuid4().hex[:8]}"
        source = await api.post(
            "/ingest/api/v1/source",
            json={"name": "gh", "uid": uid, "type": "github", "config": {"secret": GITHUB_SECRET}},
        )
        assert source.status_code == 201, source.text
        source_id, ingest_url = source.json()["id"], source.json()["ingestUrl"]
        rule = await create_rule(
            api, kind="duplicates", scope="source", scopeId=uid, threshold=1, windowSeconds=60
        )
        assert rule["scopeId"] == source_id  # a uid is resolved to the id
        body = orjson.dumps({"ref": "refs/heads/main"})
        headers = github_headers(body, GITHUB_SECRET, "push", delivery="twice")
        for _ in range(2):
            answer = await api.post(ingest_url, content=body, headers=headers)
            assert answer.status_code == 200, answer.text
        issue = await issue_of(api, rule["id"], "open")
        assert issue["kind"] == "duplicates" and issue["value"] == 1
        assert issue["affected"] == [source_id] and issue["appId"] is None
        assert issue["summary"] == "1 duplicate requests ≥ 1 over 1 min"
        listed = (await api.get(issue["link"])).json()["data"]
        assert [record["outcome"] for record in listed] == ["duplicate"]


async def test_one_evaluator_at_a_time_across_processes(
    new_server: NewServer, tmp_path: Path
) -> None:
    """Two API processes and a worker on one PostgreSQL database: one holds the lease and
    evaluates; when it dies, another takes over and evaluating goes on."""
    url = create_database()
    try:
        env = {"HOOKD_DATABASE_URL": url, **FAST, "HOOKD_SHUTDOWN_GRACE": "1"}
        servers = [
            new_server({**env, "HOOKD_ROLE": "api"}, name="api-1"),
            new_server({**env, "HOOKD_ROLE": "api"}, name="api-2"),
            new_server({**env, "HOOKD_ROLE": "worker"}, name="worker"),
        ]
        for server in servers:
            server.start(wait_healthy=server.env["HOOKD_ROLE"] == "api")
        db = Database(url)
        try:
            await _lease_is_held_by_one_then_handed_over(db, servers)
        finally:
            await db.close()
    finally:
        for server in servers:
            server.stop()
        drop_database(url)


async def _lease_is_held_by_one_then_handed_over(db: Database, servers: list[HookdServer]) -> None:
    async def lease() -> tuple[str, int, int] | None:
        async with db.read() as conn:
            return await leases.read(conn, LEASE)

    apis = [server for server in servers if server.env["HOOKD_ROLE"] == "api"]
    async with client(apis[0]) as api:
        app_id = await create_app(api, "lease")
        endpoint = await create_endpoint(api, app_id, url="http://127.0.0.1:9/hook")
        rule = await create_rule(api, kind="endpoint_disabled", quietPeriodSeconds=0)
        patched = await api.patch(
            f"/api/v1/app/{app_id}/endpoint/{endpoint['id']}", json={"disabled": True}
        )
        assert patched.status_code == 200, patched.text
        issue = await issue_of(api, rule["id"], "open")
        assert issue["summary"] == "Endpoint disabled"
    first = await eventually(lease)
    holder, expires_at, generation = first

    async def renewed_thrice() -> bool:
        now = await lease()
        return now is not None and now[1] >= expires_at + 3 * 200  # three renewals later

    await eventually(renewed_thrice)
    assert await lease() is not None
    now_holder, _, now_generation = (await lease()) or first
    # Three processes ran evaluators all along; the lease never changed hands.
    assert (now_holder, now_generation, generation) == (holder, 1, 1)

    pid = int(holder.split(":")[1])
    [dead] = [server for server in servers if server.process and server.process.pid == pid]
    dead.kill()  # no release: the lease runs out, and another process takes it

    async def taken_over() -> tuple[str, int, int] | None:
        now = await lease()
        return now if now is not None and now[0] != holder else None

    new_holder, _, new_generation = await eventually(taken_over, timeout=30)
    assert new_generation == 2 and int(new_holder.split(":")[1]) != pid
    alive = next(server for server in apis if server is not dead)
    async with client(alive) as api:
        enabled = await api.patch(
            f"/api/v1/app/{app_id}/endpoint/{endpoint['id']}", json={"disabled": False}
        )
        assert enabled.status_code == 200, enabled.text
        resolved = await issue_of(api, rule["id"], "resolved")  # the new holder evaluates
        assert resolved["id"] == issue["id"]


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated database's URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hookd.db'}"
        db = Database(url)
        await upgrade(db)
        await db.close()
        yield url
        return
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)


async def test_the_lease_has_one_holder_and_fences_a_lost_one(database: str) -> None:
    """Processes racing for the lease: one wins; the winner renews; once it runs out another
    takes it, and an evaluation by the first one then writes nothing."""
    clock = [datetime(2026, 12, 8, 12, 0, tzinfo=UTC)]
    dbs = [Database(database) for _ in range(4)]
    contexts = [
        Context(db=db, settings=Settings(database_url=database), clock=lambda: clock[0])
        for db in dbs
    ]
    ctx = contexts[0]
    try:
        app = await applications.create_app(ctx, {"name": "fenced"})
        await endpoints.create_endpoint(
            ctx, app[0].id, {"url": "https://example.com/hook", "disabled": True}
        )
        rule = await rules.create_rule(ctx, {"name": "off", "kind": "endpoint_disabled"})

        won = await asyncio.gather(
            *(take_lease(ctx, f"holder-{n}", 5) for n, ctx in enumerate(contexts))
        )
        assert sum(won) == 1
        winner = won.index(True)
        others = [n for n in range(4) if n != winner]
        assert await take_lease(contexts[winner], f"holder-{winner}", 5)  # renewed
        assert not await take_lease(contexts[others[0]], f"holder-{others[0]}", 5)

        clock[0] += timedelta(seconds=6)  # the winner stalled past its lease
        taker = others[1]
        assert await take_lease(contexts[taker], f"holder-{taker}", 5)
        async with ctx.db.read() as conn:
            until = int((clock[0] + timedelta(seconds=5)).timestamp() * 1000)
            assert await leases.read(conn, LEASE) == (f"holder-{taker}", until, 2)
        # The stalled holder's evaluation finds the rule firing, but its fenced write fails.
        assert await evaluate(contexts[winner], f"holder-{winner}", 5) is None
        page = await issues.list_issues(ctx, ListQuery(10), statuses=None, rule_id=rule.id)
        assert page.items == []
        done = await evaluate(contexts[taker], f"holder-{taker}", 5)
        assert done is not None and [n.event for n, _ in done.notices] == ["opened"]
        assert done.unresolved == 1
    finally:
        for db in dbs:
            await db.close()


async def test_rules_are_managed_through_the_api(
    api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(api, app_id, url=receiver.url)
    # Disabled rules: the shared server evaluates nothing of this test.
    made = await create_rule(
        api, kind="failure_rate", enabled=False, scope="application", scopeId=app_id
    )
    assert made == made | {
        "enabled": False,
        "kind": "failure_rate",
        "scope": "application",
        "scopeId": app_id,
        "threshold": 50.0,  # the kind's defaults
        "windowSeconds": 300,
        "minVolume": 10,
        "escalateThreshold": None,
        "escalateAfterSeconds": None,
        "quietPeriodSeconds": 300,
        "channels": [],
        "description": "",
    }
    rule_url = f"/api/v1/alert/rule/{made['id']}"
    assert (await api.get(rule_url)).json() == made
    patched = await api.patch(rule_url, json={"kind": "breaker_open", "threshold": 60})
    assert patched.status_code == 200, patched.text
    assert patched.json() | {"updatedAt": None} == made | {
        "kind": "breaker_open",
        "threshold": 60.0,
        "windowSeconds": None,  # a new kind starts its own settings over
        "minVolume": None,
        "updatedAt": None,
    }
    replaced = await api.put(
        rule_url, json={"name": "again", "kind": "endpoint_disabled", "enabled": False}
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["scope"] == "global" and replaced.json()["threshold"] == 1
    second = await create_rule(
        api, kind="endpoint_disabled", enabled=False, scope="endpoint", scopeId=endpoint["id"]
    )
    first_page = (await api.get("/api/v1/alert/rule", params={"limit": 1})).json()
    assert len(first_page["data"]) == 1 and not first_page["done"]
    rest = await api.get(
        "/api/v1/alert/rule", params={"limit": 250, "iterator": first_page["iterator"]}
    )
    assert second["id"] in {rule["id"] for rule in rest.json()["data"]} | {
        first_page["data"][0]["id"]
    }
    for rule in (made, second):
        assert (await api.delete(f"/api/v1/alert/rule/{rule['id']}")).status_code == 204
    assert (await api.get(rule_url)).status_code == 404


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"name": "x", "kind": "loud"}, "validation", "kind"),
        ({"kind": "failure_rate"}, "validation", "name"),
        (
            {"name": "x", "kind": "duplicates", "scope": "endpoint", "scopeId": "ep_x"},
            "validation",
            "scope",
        ),
        ({"name": "x", "kind": "failure_rate", "threshold": 150}, "validation", "threshold"),
        ({"name": "x", "kind": "failure_rate", "threshold": 0}, "validation", "threshold"),
        ({"name": "x", "kind": "failure_rate", "windowSeconds": 30}, "validation", "windowSeconds"),
        (
            {"name": "x", "kind": "endpoint_disabled", "windowSeconds": 60},
            "validation",
            "windowSeconds",
        ),
        ({"name": "x", "kind": "oldest_due_age", "minVolume": 5}, "validation", "minVolume"),
        (
            {"name": "x", "kind": "failure_rate", "escalateThreshold": 40},
            "validation",
            "escalateThreshold",
        ),
        ({"name": "x", "kind": "failure_rate", "scope": "application"}, "validation", "scopeId"),
        (
            {"name": "x", "kind": "failure_rate", "scope": "endpoint", "scopeId": "ep_nobody"},
            "unknown_scope",
            "scopeId",
        ),
        (
            {"name": "x", "kind": "failure_rate", "channels": ["achan_nobody"]},
            "unknown_channel",
            "channels",
        ),
        ({"name": "x", "kind": "failure_rate", "enabled": 1}, "validation", "enabled"),
    ],
)
async def test_bad_rules_are_refused(
    api: httpx.AsyncClient, body: dict[str, Any], code: str, field: str
) -> None:
    answer = await api.post("/api/v1/alert/rule", json=body)
    assert answer.status_code == 422, answer.text
    error = answer.json()
    assert error["code"] == code
    assert field in [part for item in error["detail"] for part in item["loc"]], error


async def test_unknown_rules_and_issues_are_404s_and_bad_moves_422s(api: httpx.AsyncClient) -> None:
    for method, path, body in [
        ("GET", "/api/v1/alert/rule/alrt_nobody", None),
        ("PATCH", "/api/v1/alert/rule/alrt_nobody", {"name": "x"}),
        ("DELETE", "/api/v1/alert/rule/alrt_nobody", None),
        ("GET", "/api/v1/alert/issue/iss_nobody", None),
        ("POST", "/api/v1/alert/issue/iss_nobody/resolve", None),
        ("PATCH", "/api/v1/alert/issue/iss_nobody", {"status": "acknowledged"}),
    ]:
        answer = await api.request(method, path, json=body)
        assert answer.status_code == 404, (path, answer.text)
        assert answer.json()["code"] == "not_found" and answer.json()["detail"]
    bad = await api.patch("/api/v1/alert/issue/iss_nobody", json={"status": "ignored"})
    assert bad.status_code == 422 and bad.json()["code"] == "validation"
    listed = await api.get("/api/v1/alert/issue", params={"status": "closed"})
    assert listed.status_code == 422 and listed.json()["code"] == "validation"
