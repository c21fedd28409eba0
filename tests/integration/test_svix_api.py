"""Svix API parity, driven through the official Svix SDK: payload retention in hours, message
list filters and order, deliverAt, bulk and attempt expunges, background tasks."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiohttp import web
from sqlalchemy import select
from svix.api import (
    BackgroundTaskListOptions,
    BulkExpungeContentsIn,
    EndpointIn,
    MessageAttemptListByMsgOptions,
    MessageGetOptions,
    MessageIn,
    MessageListOptions,
    RecoverIn,
    SvixAsync,
)
from svix.models import BackgroundTaskStatus, BackgroundTaskType, BulkExpungeStatus

from hookd import ids
from hookd.config import Settings
from hookd.core.domain import BackgroundTask, ListQuery
from hookd.services import background_tasks, retention
from hookd.services.context import Context, utc_now
from hookd.services.messages import crud as messages_service
from hookd.store import background_tasks as task_store
from hookd.store.db import Database
from hookd.store.schema import message_versions, messages
from tests.support import HookdServer, Receiver, eventually

HOUR_MS = 3600 * 1000


def uid() -> str:
    return uuid.uuid4().hex[:16]


def database_url(server: HookdServer) -> str:
    return server.env.get("HOOKD_DATABASE_URL") or f"sqlite:///{server.data_dir / 'hookd.db'}"


async def retention_ms(server: HookdServer, msg_id: str) -> int:
    """How long the server keeps this message's payload (payload_expires_at - created_at)."""
    db = Database(database_url(server))
    try:
        async with db.read() as conn:
            query = select(messages.c.created_at, messages.c.payload_expires_at)
            row = (await conn.execute(query.where(messages.c.id == msg_id))).one()
    finally:
        await db.close()
    return int(row.payload_expires_at - row.created_at)


async def test_payload_retention_hours_and_period_are_honoured(
    svix: SvixAsync, app_id: str, hookd: HookdServer
) -> None:
    hours = await svix.message.create(
        app_id, MessageIn(event_type="a.b", payload={}, payload_retention_hours=2)
    )
    days = await svix.message.create(
        app_id, MessageIn(event_type="a.b", payload={}, payload_retention_period=5)
    )
    default = await svix.message.create(app_id, MessageIn(event_type="a.b", payload={}))
    assert await retention_ms(hookd, hours.id) == 2 * HOUR_MS
    assert await retention_ms(hookd, days.id) == 5 * 24 * HOUR_MS
    assert await retention_ms(hookd, default.id) == 90 * 24 * HOUR_MS


@pytest.mark.parametrize(
    "body",
    [
        {"payloadRetentionHours": 0},
        {"payloadRetentionHours": 90 * 24 + 1},
        {"payloadRetentionHours": 24, "payloadRetentionPeriod": 5},
    ],
)
async def test_bad_payload_retention_hours_are_refused(
    api: httpx.AsyncClient, app_id: str, body: dict[str, int]
) -> None:
    response = await api.post(
        f"/api/v1/app/{app_id}/msg", json={"eventType": "a.b", "payload": {}, **body}
    )
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "validation"
    assert error["detail"][0]["loc"] == ["body", "payloadRetentionHours"]


async def test_message_list_filters_by_tag_and_orders_ascending(
    svix: SvixAsync, api: httpx.AsyncClient, app_id: str
) -> None:
    tag = f"t-{uid()}"
    tagged = [
        (
            await svix.message.create(
                app_id, MessageIn(event_type="a.b", payload={"i": i}, tags=[tag, "other"])
            )
        ).id
        for i in range(3)
    ]
    await svix.message.create(app_id, MessageIn(event_type="a.b", payload={}, tags=["other"]))
    await svix.message.create(app_id, MessageIn(event_type="a.b", payload={}))

    page = await svix.message.list(app_id, MessageListOptions(tag=tag))
    assert [m.id for m in page.data] == tagged[::-1]

    ascending = await api.get(
        f"/api/v1/app/{app_id}/msg", params={"tag": tag, "order": "ascending", "limit": 2}
    )
    body = ascending.json()
    assert [m["id"] for m in body["data"]] == tagged[:2] and not body["done"]
    rest = await api.get(
        f"/api/v1/app/{app_id}/msg",
        params={"tag": tag, "order": "ascending", "iterator": body["iterator"]},
    )
    assert [m["id"] for m in rest.json()["data"]] == tagged[2:]


async def test_deliver_at_is_echoed_on_create_get_and_list(svix: SvixAsync, app_id: str) -> None:
    when = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=123000)
    created = await svix.message.create(
        app_id, MessageIn(event_type="a.b", payload={}, deliver_at=when)
    )
    assert created.deliver_at == when
    assert (await svix.message.get(app_id, created.id)).deliver_at == when
    now = await svix.message.create(app_id, MessageIn(event_type="a.b", payload={}))
    assert now.deliver_at is None
    listed = {m.id: m.deliver_at for m in (await svix.message.list(app_id)).data}
    assert listed[created.id] == when and listed[now.id] is None


async def test_bulk_expunge_content(svix: SvixAsync, app_id: str) -> None:
    event_id = f"evt-{uid()}"
    first = await svix.message.create(app_id, MessageIn(event_type="a.b", payload={"pii": 1}))
    second = await svix.message.create(
        app_id, MessageIn(event_type="a.b", payload={"pii": 2}, event_id=event_id)
    )
    kept = await svix.message.create(app_id, MessageIn(event_type="a.b", payload={"kept": 3}))

    out = await svix.message.bulk_expunge_content(
        app_id, BulkExpungeContentsIn(ids=[first.id, event_id, "msg_missing"])
    )
    assert out.results == {
        first.id: BulkExpungeStatus.EXPUNGED,
        event_id: BulkExpungeStatus.EXPUNGED,
        "msg_missing": BulkExpungeStatus.NOT_FOUND,
    }
    with_content = MessageGetOptions(with_content=True)
    assert (await svix.message.get(app_id, first.id, with_content)).payload == {}
    assert (await svix.message.get(app_id, second.id, with_content)).payload == {}
    assert (await svix.message.get(app_id, kept.id, with_content)).payload == {"kept": 3}


async def test_expunge_all_contents_is_a_background_task(svix: SvixAsync, app_id: str) -> None:
    made = [
        await svix.message.create(app_id, MessageIn(event_type="a.b", payload={"pii": i}))
        for i in range(3)
    ]
    started = await svix.message.expunge_all_contents(app_id)
    assert started.id.startswith("qtask_")
    assert started.task == BackgroundTaskType.APPLICATION_PURGE_CONTENT

    async def finished() -> bool:
        task = await svix.background_task.get(started.id)
        return task.status == BackgroundTaskStatus.FINISHED and task.data == {"messagesPurged": 3}

    assert await eventually(finished)
    with_content = MessageGetOptions(with_content=True)
    for message in made:
        assert (await svix.message.get(app_id, message.id, with_content)).payload == {}
    later = await svix.message.create(app_id, MessageIn(event_type="a.b", payload={"new": 1}))
    assert (await svix.message.get(app_id, later.id, with_content)).payload == {"new": 1}

    listed = await svix.background_task.list(
        BackgroundTaskListOptions(task=BackgroundTaskType.APPLICATION_PURGE_CONTENT, limit=250)
    )
    assert started.id in {task.id for task in listed.data}


async def test_expunge_all_contents_of_a_missing_app_is_404(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/v1/app/app_missing/msg/expunge-all-contents")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


async def test_attempt_expunge_content(svix: SvixAsync, app_id: str, receiver: Receiver) -> None:
    receiver.default = web.Response(status=200, text="account 1234 secret answer")
    ep = await svix.endpoint.create(app_id, EndpointIn(url=receiver.url))
    msg = await svix.message.create(app_id, MessageIn(event_type="a.b", payload={}))

    async def attempted() -> str:
        page = await svix.message_attempt.list_by_msg(app_id, msg.id)
        return page.data[0].id if page.data else ""

    attempt_id = await eventually(attempted)
    before = await svix.message_attempt.get(app_id, msg.id, attempt_id)
    assert before.response == "account 1234 secret answer"
    await svix.message_attempt.expunge_content(app_id, msg.id, attempt_id)
    after = await svix.message_attempt.get(app_id, msg.id, attempt_id)
    assert after.response == "EXPUNGED"
    listed = await svix.message_attempt.list_by_msg(
        app_id, msg.id, MessageAttemptListByMsgOptions(endpoint_id=ep.id)
    )
    assert [a.response for a in listed.data] == ["EXPUNGED"]


async def test_attempt_expunge_content_of_a_missing_attempt_is_404(
    api: httpx.AsyncClient, svix: SvixAsync, app_id: str
) -> None:
    msg = await svix.message.create(app_id, MessageIn(event_type="a.b", payload={}))
    response = await api.delete(f"/api/v1/app/{app_id}/msg/{msg.id}/attempt/atmpt_x/content")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


async def test_recover_task_can_be_fetched_and_listed(
    svix: SvixAsync, app_id: str, receiver: Receiver
) -> None:
    ep = await svix.endpoint.create(app_id, EndpointIn(url=receiver.url))
    since = datetime.now(UTC) - timedelta(minutes=1)
    task = await svix.endpoint.recover(app_id, ep.id, RecoverIn(since=since))
    fetched = await svix.background_task.get(task.id)
    assert fetched.id == task.id and fetched.task == BackgroundTaskType.ENDPOINT_RECOVER
    assert fetched.status == BackgroundTaskStatus.FINISHED
    assert fetched.data == {"messagesSent": 0}
    finished = await svix.background_task.list(
        BackgroundTaskListOptions(status=BackgroundTaskStatus.FINISHED, limit=250)
    )
    assert task.id in {t.id for t in finished.data}
    running = await svix.background_task.list(
        BackgroundTaskListOptions(status=BackgroundTaskStatus.RUNNING, limit=250)
    )
    assert task.id not in {t.id for t in running.data}


async def test_background_task_errors(api: httpx.AsyncClient) -> None:
    missing = await api.get("/api/v1/background-task/qtask_missing")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    bad = await api.get("/api/v1/background-task", params={"task": "no.such"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "task"]
    bad_status = await api.get("/api/v1/background-task", params={"status": "done"})
    assert bad_status.status_code == 422


async def test_new_routes_are_declared_with_their_models(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    paths = spec["paths"]

    def model(path: str, method: str, status: str) -> str:
        content = paths[path][method]["responses"][status]["content"]["application/json"]
        return str(content["schema"])

    assert "BulkExpungeContentsOut" in model("/api/v1/app/{app_id}/msg/bulk-expunge", "post", "200")
    assert "BackgroundTaskOut" in model(
        "/api/v1/app/{app_id}/msg/expunge-all-contents", "post", "202"
    )
    assert "BackgroundTaskOut" in model("/api/v1/background-task", "get", "200")
    assert "BackgroundTaskOut" in model("/api/v1/background-task/{task_id}", "get", "200")
    assert (
        "204"
        in paths["/api/v1/app/{app_id}/msg/{msg_id}/attempt/{attempt_id}/content"]["delete"][
            "responses"
        ]
    )
    params = {p["name"] for p in paths["/api/v1/app/{app_id}/msg"]["get"]["parameters"]}
    assert {"tag", "order"} <= params


async def test_source_bulk_replay_is_a_background_task(
    svix: SvixAsync, api: httpx.AsyncClient
) -> None:
    source = await api.post(
        "/ingest/api/v1/source",
        json={"name": "gh", "type": "github", "config": {"secret": "s" * 20}},
    )
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    replay = await api.post(
        f"/ingest/api/v1/source/{source.json()['id']}/request/replay", json={"since": since}
    )
    task = replay.json()
    assert task["id"].startswith("qtask_") and task["task"] == "source.replay"
    fetched = await api.get(f"/api/v1/background-task/{task['id']}")
    assert fetched.json() == task
    # hookd's own task type is listed only when asked for: Svix's SDKs refuse unknown types.
    listed = await svix.background_task.list(BackgroundTaskListOptions(limit=250))
    assert task["id"] not in {t.id for t in listed.data}
    asked = await api.get("/api/v1/background-task", params={"task": "source.replay"})
    assert task["id"] in {t["id"] for t in asked.json()["data"]}


@pytest.fixture
async def ctx(hookd: HookdServer) -> AsyncIterator[Context]:
    """A service context in this process, on the session server's database."""
    url = database_url(hookd)
    db = Database(url)
    yield Context(db=db, settings=Settings(database_url=url))
    await db.close()


async def test_expunge_all_contents_runs_in_batches_with_progress(
    ctx: Context, app_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(background_tasks, "PURGE_BATCH", 2)
    made = [
        (await messages_service.create_message(ctx, app_id, payload=b"{}", event_type="a.b"))[0]
        for _ in range(5)
    ]
    started = await background_tasks.expunge_all_contents(ctx, app_id)
    assert started.status == "running" and started.data == {"messagesPurged": 0}
    await asyncio.gather(*background_tasks._running)
    done = await background_tasks.get_task(ctx, started.id)
    assert (done.status, done.data) == ("finished", {"messagesPurged": 5})
    for message in made:
        assert (await messages_service.get_message(ctx, app_id, message.id)).payload is None


async def test_a_running_task_without_heartbeat_reads_as_failed(ctx: Context) -> None:
    now = utc_now()
    old = now - background_tasks.STALE_AFTER - timedelta(seconds=1)
    task = BackgroundTask(
        ids.new_id(ids.TASK, old), background_tasks.PURGE_CONTENT, "running", None, {}, old, old
    )
    async with ctx.db.write() as conn:
        await task_store.insert_task(conn, task)
    seen = await background_tasks.get_task(ctx, task.id)
    assert seen.status == "failed" and "interrupted" in seen.data["error"]
    failed = await background_tasks.list_tasks(
        ctx, ListQuery(250, order="descending"), status="failed", task=None
    )
    assert task.id in {t.id for t in failed.items}
    running = await background_tasks.list_tasks(
        ctx, ListQuery(250, order="descending"), status="running", task=None
    )
    assert task.id not in {t.id for t in running.items}


async def test_expired_payloads_lose_their_other_versions_too(ctx: Context, app_id: str) -> None:
    now = utc_now()
    past = Context(db=ctx.db, settings=ctx.settings, clock=lambda: now - timedelta(hours=2))
    made, _ = await messages_service.create_message(
        past,
        app_id,
        payload=b'{"v": 2}',
        event_type="a.b",
        payload_versions={1: b'{"v": 1}'},
        payload_retention_hours=1,
    )
    await retention.prune(ctx.db, now, older_than=None)
    async with ctx.db.read() as conn:
        kept = (
            await conn.execute(select(message_versions).where(message_versions.c.msg_id == made.id))
        ).all()
    assert kept == []
    assert (await messages_service.get_message(ctx, app_id, made.id)).payload is None
