"""The console's services on SQLite and PostgreSQL: sessions and login links (stored as
digests, sliding, single use), the reads its pages make (search, health, the log), the bulk
replay of failed messages and the transformation's test run."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import event, select, update

from hookd.config import Settings
from hookd.core.breaker import HealthState
from hookd.core.domain import BackgroundTask, DeliveryStatus, ListQuery
from hookd.services import applications, background_tasks, console, event_types
from hookd.services.context import Context
from hookd.services.endpoints import crud as endpoints
from hookd.services.endpoints.example import send_example
from hookd.services.endpoints.overview import endpoints_with_health
from hookd.services.endpoints.transformation import try_transformation
from hookd.services.errors import Invalid, NotFound
from hookd.services.messages import crud as messages
from hookd.services.messages.log import message_log, message_view
from hookd.services.messages.replay import ReplayFilter, replay_failed
from hookd.store.db import Database
from hookd.store.schema import console_links, console_sessions, deliveries
from tests.pg import create_database, drop_database, migrate_database

START = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'console.db'}"
        migrate_database(url)
        yield url
        return
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture
async def ctx(database_url: str) -> AsyncIterator[tuple[Context, Clock]]:
    db = Database(database_url)
    clock = Clock()
    settings = Settings(database_url=database_url, allow_networks="127.0.0.0/8")
    yield Context(db=db, settings=settings, clock=clock), clock
    await db.close()


async def test_sessions_slide_expire_and_end(ctx: tuple[Context, Clock]) -> None:
    context, clock = ctx
    token, session = await console.start_session(context, "admin")
    assert session.expires_at == START + console.SESSION_IDLE
    # Only the digest is stored.
    async with context.db.read() as conn:
        stored = (await conn.execute(select(console_sessions.c.digest))).scalars().all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]

    # Each use pushes the expiry back, up to the absolute limit.
    clock.now = START + timedelta(hours=11)
    found = await console.find_session(context, token)
    assert found is not None and found.principal == "admin"
    assert found.expires_at == clock.now + console.SESSION_IDLE
    clock.now += timedelta(hours=11)  # 22 h after sign-in: alive thanks to the slide
    assert await console.find_session(context, token) is not None
    while clock.now + timedelta(hours=10) < START + console.SESSION_MAX:
        clock.now += timedelta(hours=10)
        assert await console.find_session(context, token) is not None
    clock.now = START + console.SESSION_MAX
    assert await console.find_session(context, token) is None

    # Idle too long: gone; an unknown token: nothing.
    clock.now = START
    other, _ = await console.start_session(context, "admin")
    clock.now = START + console.SESSION_IDLE
    assert await console.find_session(context, other) is None
    assert await console.find_session(context, "not-a-session") is None

    # Sign-out ends a live session at once.
    clock.now = START
    third, _ = await console.start_session(context, "admin")
    assert await console.find_session(context, third) is not None
    await console.end_session(context, third)
    assert await console.find_session(context, third) is None


async def test_login_links_work_once_and_expire(ctx: tuple[Context, Clock]) -> None:
    context, clock = ctx
    token, expires = await console.create_link(context, "admin")
    assert expires == START + console.LINK_TTL
    async with context.db.read() as conn:
        stored = (await conn.execute(select(console_links.c.digest))).scalars().all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    assert await console.use_link(context, token) == "admin"
    assert await console.use_link(context, token) is None  # spent

    late, _ = await console.create_link(context, "admin")
    clock.now = START + console.LINK_TTL
    assert await console.use_link(context, late) is None
    assert await console.use_link(context, "") is None


async def test_page_reads(ctx: tuple[Context, Clock]) -> None:
    context, clock = ctx
    shop, _ = await applications.create_app(context, {"name": "Shop 100%_off", "uid": "shop"})
    await applications.create_app(context, {"name": "Billing"})

    async def names(search: str) -> list[str]:
        page = await applications.list_apps(
            context, ListQuery(10, None, "ascending"), search=search
        )
        return [app.name for app in page.items]

    assert await names("shop") == ["Shop 100%_off"]
    assert await names("100%_") == ["Shop 100%_off"]  # LIKE wildcards are plain characters
    assert await names("%") == ["Shop 100%_off"]
    assert await names(shop.id) == ["Shop 100%_off"]
    assert await names("BILL") == ["Billing"]
    assert await names("nothing") == []

    first = await endpoints.create_endpoint(
        context, shop.id, {"url": "http://127.0.0.1:9/a", "filter_types": ["order.paid"]}
    )
    clock.now += timedelta(seconds=1)  # ids sort by their time
    second = await endpoints.create_endpoint(context, shop.id, {"url": "http://127.0.0.1:9/b"})

    message, routed = await messages.create_message(
        context, shop.id, payload=b'{"a":"<script>"}', event_type="order.paid", tags=["t1"]
    )
    assert routed == 2
    clock.now += timedelta(seconds=1)
    other, _ = await messages.create_message(
        context, shop.id, payload=b"{}", event_type="order.refunded", channels=["eu"]
    )
    await endpoints.update_endpoint(context, shop.id, second.id, {"disabled": True}, replace=False)
    listed = await endpoints_with_health(context, shop.id, iterator=None, limit=10)
    assert [(e.id, state) for e, state in listed.items] == [
        (first.id, HealthState.HEALTHY),
        (second.id, HealthState.DISABLED),
    ]
    log = await message_log(context, shop.id, iterator=None, limit=10)
    assert [(m.id, len(d)) for m, d in log.items] == [(other.id, 1), (message.id, 2)]
    by_tag = await message_log(context, shop.id, iterator=None, limit=10, tag="t1")
    assert [m.id for m, _ in by_tag.items] == [message.id]
    by_channel = await message_log(context, shop.id, iterator=None, limit=10, channel="eu")
    assert [m.id for m, _ in by_channel.items] == [other.id]
    at_first = await message_log(
        context,
        shop.id,
        iterator=None,
        limit=10,
        endpoint_id=first.id,
        status=DeliveryStatus.PENDING,
        event_types=["order.paid"],
    )
    assert [(m.id, d[0].endpoint_id) for m, d in at_first.items] == [(message.id, first.id)]
    # A status over every endpoint: each message once, with its deliveries in that status.
    pending = await message_log(
        context, shop.id, iterator=None, limit=10, status=DeliveryStatus.PENDING
    )
    assert [(m.id, sorted(d.endpoint_id for d in ds)) for m, ds in pending.items] == [
        (other.id, [second.id]),
        (message.id, sorted([first.id, second.id])),
    ]
    one = await message_log(context, shop.id, iterator=None, limit=1, status=DeliveryStatus.PENDING)
    assert [m.id for m, _ in one.items] == [other.id] and not one.done
    following = await message_log(
        context, shop.id, iterator=one.iterator, limit=1, status=DeliveryStatus.PENDING
    )
    assert [(m.id, len(ds)) for m, ds in following.items] == [(message.id, 2)]
    failed = await message_log(
        context, shop.id, iterator=None, limit=10, status=DeliveryStatus.FAIL
    )
    assert failed.items == [] and failed.done
    crowded, _ = await applications.create_app(context, {"name": "Crowded"})
    for number in range(21):
        await endpoints.create_endpoint(
            context, crowded.id, {"url": f"http://127.0.0.1:9/{number}"}
        )
    with pytest.raises(Invalid):  # more than 20 endpoints: the status needs one of them
        await message_log(context, crowded.id, iterator=None, limit=10, status=DeliveryStatus.FAIL)

    view = await message_view(context, shop.id, message.id)
    assert {e.id for e, _ in view.destinations} == {first.id, second.id}
    assert view.attempts == [] and not view.more_attempts
    with pytest.raises(NotFound):
        await message_view(context, shop.id, "msg_nothing")


async def test_send_example_goes_to_one_endpoint(ctx: tuple[Context, Clock]) -> None:
    context, _ = ctx
    app, _ = await applications.create_app(context, {"name": "Examples"})
    target = await endpoints.create_endpoint(context, app.id, {"url": "http://127.0.0.1:9/a"})
    await endpoints.create_endpoint(context, app.id, {"url": "http://127.0.0.1:9/b"})
    await event_types.create_event_type(
        context,
        {
            "name": "user.created",
            "schemas": {
                "1": {"type": "object", "examples": [{"v": 1}]},
                "2": {"type": "object", "examples": [{"v": 2}, {"v": 22}]},
            },
        },
    )
    await event_types.create_event_type(context, {"name": "bare"})

    sent = await send_example(context, app.id, target.id, "user.created")
    assert (sent.version, orjson.loads(sent.payload or b"")) == (2, {"v": 2})
    second = await send_example(context, app.id, target.id, "user.created", example_index=1)
    assert orjson.loads(second.payload or b"") == {"v": 22}
    view = await message_view(context, app.id, sent.id)
    assert [e.id for e, _ in view.destinations] == [target.id]

    with pytest.raises(Invalid) as no_example:
        await send_example(context, app.id, target.id, "bare")
    assert no_example.value.code == "no_example"
    with pytest.raises(NotFound):
        await send_example(context, app.id, target.id, "no.such.type")


async def test_the_log_and_a_message_page_take_the_same_queries_whatever_the_size(
    ctx: tuple[Context, Clock],
) -> None:
    context, clock = ctx
    app, _ = await applications.create_app(context, {"name": "Busy"})
    for number in range(3):
        await endpoints.create_endpoint(context, app.id, {"url": f"http://127.0.0.1:9/{number}"})
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    engine = context.db.reader.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        queries = []
        for size in (2, 40):
            while True:
                page = await message_log(context, app.id, iterator=None, limit=50)
                if len(page.items) >= size:
                    break
                clock.now += timedelta(milliseconds=1)
                await messages.create_message(
                    context, app.id, payload=b"{}", event_type="order.paid"
                )
            statements.clear()
            page = await message_log(context, app.id, iterator=None, limit=50)
            await message_view(context, app.id, page.items[0][0].id)
            assert len(page.items) == size
            assert all(len(deliveries) == 3 for _, deliveries in page.items)
            queries.append(len([s for s in statements if s.lstrip().upper().startswith("SELECT")]))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert queries[0] == queries[1] <= 7


async def _failed(context: Context, msg_ids: list[str]) -> None:
    """Mark these messages' deliveries failed (as the worker does after the last retry)."""
    async with context.db.write() as conn:
        await conn.execute(
            update(deliveries)
            .where(deliveries.c.msg_id.in_(msg_ids))
            .values(status=int(DeliveryStatus.FAIL), attempts=4, next_attempt_at=None)
        )


async def _finished(context: Context, task_id: str) -> BackgroundTask:
    for _ in range(500):
        task = await background_tasks.get_task(context, task_id)
        if task.status != "running":
            return task
        await asyncio.sleep(0.01)
    raise AssertionError(f"task {task_id} still running")


async def test_bulk_replay_requeues_the_failed_deliveries_the_filters_choose(
    ctx: tuple[Context, Clock],
) -> None:
    context, clock = ctx
    app, _ = await applications.create_app(context, {"name": "Replays"})
    first = await endpoints.create_endpoint(context, app.id, {"url": "http://127.0.0.1:9/a"})
    second = await endpoints.create_endpoint(context, app.id, {"url": "http://127.0.0.1:9/b"})
    sent = []
    for number in range(7):
        clock.now += timedelta(milliseconds=1)
        kind = "order.paid" if number % 2 else "order.refunded"
        message, _ = await messages.create_message(
            context, app.id, payload=b"{}", event_type=kind, tags=["t"] if number < 5 else None
        )
        sent.append(message)
    await _failed(context, [m.id for m in sent[:6]])  # the last one stays pending

    # Paid and tagged, at the first endpoint only: numbers 1 and 3.
    chosen = ReplayFilter(endpoint_id=first.id, event_types=["order.paid"], tag="t")
    task = await replay_failed(context, app.id, chosen)
    assert task.task == "message.replay" and task.status == "running"
    done = await _finished(context, task.id)
    assert (done.status, done.data) == ("finished", {"total": 2, "done": 2})
    pending = await message_log(
        context,
        app.id,
        iterator=None,
        limit=50,
        endpoint_id=first.id,
        status=DeliveryStatus.PENDING,
    )
    assert {m.id for m, _ in pending.items} == {sent[1].id, sent[3].id, sent[6].id}

    # Every endpoint, no filter: the other 10 failed deliveries.
    rest = await _finished(context, (await replay_failed(context, app.id, ReplayFilter())).id)
    assert rest.data == {"total": 10, "done": 10}
    nothing = await replay_failed(context, app.id, ReplayFilter(endpoint_id=second.id))
    assert (await _finished(context, nothing.id)).data == {"total": 0, "done": 0}
    with pytest.raises(NotFound):
        await replay_failed(context, app.id, ReplayFilter(endpoint_id="ep_nothing"))
    with pytest.raises(NotFound):
        await replay_failed(context, "app_nothing", ReplayFilter())


async def test_an_endpoints_messages_page_through_every_status_in_order(
    ctx: tuple[Context, Clock],
) -> None:
    context, clock = ctx
    app, _ = await applications.create_app(context, {"name": "Pages"})
    target = await endpoints.create_endpoint(context, app.id, {"url": "http://127.0.0.1:9/a"})
    sent = []
    for _ in range(11):
        clock.now += timedelta(milliseconds=1)
        message, _ = await messages.create_message(
            context, app.id, payload=b"{}", event_type="order.paid"
        )
        sent.append(message.id)
    await _failed(context, sent[::3])  # failed and pending deliveries interleave
    newest_first = list(reversed(sent))
    seen: list[str] = []
    pages = []
    iterator = None
    while True:
        page = await message_log(context, app.id, iterator=iterator, limit=4, endpoint_id=target.id)
        pages.append(page)
        seen += [m.id for m, _ in page.items]
        if page.done:
            break
        iterator = page.iterator
    assert seen == newest_first and len(pages) == 3
    back = await message_log(
        context, app.id, iterator=pages[1].prev_iterator, limit=4, endpoint_id=target.id
    )
    assert [m.id for m, _ in back.items] == newest_first[:4]


async def test_a_transformation_test_run_shows_its_output_or_its_error(
    ctx: tuple[Context, Clock],
) -> None:
    pytest.importorskip("py_mini_racer", reason="mini-racer (the transformations extra)")
    from hookd.engine.transformations.sandbox import TransformSandbox

    pool = TransformSandbox(workers=1)
    context = dataclasses.replace(ctx[0], sandbox=pool)
    try:
        trial = await try_transformation(
            context,
            "function handler(r) { r.body.seen = r.headers['x-team']; r.method = 'PUT'; "
            "return r; }",
            url="https://example.com/in",
            headers={"X-Team": "<b>shop</b>"},
            payload=b'{"n": 1}',
        )
        assert (trial.method, trial.url, trial.cancelled) == ("PUT", "https://example.com/in", None)
        assert orjson.loads(trial.body) == {"n": 1, "seen": "<b>shop</b>"}
        cancelled = await try_transformation(
            context, "function handler(r) { return null; }", url="https://e.com", headers={},
            payload=b"{}",
        )  # fmt: skip
        assert cancelled.cancelled is not None
        for code in ("function handler(r) { throw new Error('no'); }", "not javascript(", ""):
            with pytest.raises(Invalid) as refused:
                await try_transformation(
                    context, code, url="https://e.com", headers={}, payload=b"{}"
                )
            assert refused.value.loc == ("body", "transformation", "code")
    finally:
        await pool.close()
