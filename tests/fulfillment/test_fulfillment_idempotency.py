"""Repeated platform calls get the stored reply; the handler runs once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import orjson

from hookd.fulfillment import (
    DialogflowCXRequest,
    DialogflowESRequest,
    Fulfillment,
    LexRequest,
    RasaRequest,
    Reply,
    StoredAnswer,
)
from hookd.fulfillment.idempotency import ReplyMemo
from tests.fulfillment.fulfillment_harness import asgi_client, load_fixture, uvicorn_server


class ManualClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def counting_app(clock: ManualClock | None = None) -> tuple[Fulfillment, list[str]]:
    app = Fulfillment(clock=clock) if clock else Fulfillment()
    calls: list[str] = []

    @app.intent("GetAccountBalance")
    def es(request: DialogflowESRequest) -> Reply:
        calls.append("es")
        return Reply(text=f"call {len(calls)}")

    @app.tag("check-balance")
    def cx(request: DialogflowCXRequest) -> Reply:
        calls.append("cx")
        return Reply(text=f"call {len(calls)}")

    @app.lex_intent("OrderFlowers")
    def lex(request: LexRequest) -> Reply:
        calls.append("lex")
        return Reply(text=f"call {len(calls)}")

    @app.action("action_check_balance")
    def rasa(request: RasaRequest) -> Reply:
        calls.append("rasa")
        return Reply(text=f"call {len(calls)}")

    return app, calls


async def test_each_platform_replays_the_first_answer() -> None:
    app, calls = counting_app()
    fixtures = [
        "es_get_account_balance.json",
        "cx_check_balance.json",
        "lex_order_flowers.json",
        "rasa_action_check_balance.json",
    ]
    async with uvicorn_server(app) as client:
        for name in fixtures:
            body = orjson.dumps(load_fixture(name))
            first = await client.post("/", content=body)
            second = await client.post("/", content=body)
            assert first.status_code == second.status_code == 200
            assert first.content == second.content
    assert calls == ["es", "cx", "lex", "rasa"]


async def test_a_new_turn_runs_the_handler_again() -> None:
    app, calls = counting_app()
    es = load_fixture("es_get_account_balance.json")
    rasa = load_fixture("rasa_action_check_balance.json")
    later_rasa = {
        **rasa,
        "tracker": {
            **rasa["tracker"],
            "events": [*rasa["tracker"]["events"], {"event": "user", "timestamp": 1763888500.0}],
        },
    }
    async with asgi_client(app) as client:
        await client.post("/", json=es)
        await client.post("/", json={**es, "responseId": "another-turn"})
        await client.post("/webhook", json=rasa)
        await client.post("/webhook", json=later_rasa)
    assert calls == ["es", "es", "rasa", "rasa"]


async def test_the_window_expires_with_the_injected_clock() -> None:
    clock = ManualClock()
    app, _ = counting_app(clock)
    es = load_fixture("es_get_account_balance.json")
    async with asgi_client(app) as client:
        first = await client.post("/", json=es)
        clock.now += timedelta(minutes=9, seconds=59)
        replay = await client.post("/", json=es)
        clock.now += timedelta(minutes=10)
        fresh = await client.post("/", json=es)
    assert (
        first.json()
        == replay.json()
        == {
            "fulfillmentText": "call 1",
            "fulfillmentMessages": [{"text": {"text": ["call 1"]}}],
        }
    )
    assert fresh.json()["fulfillmentText"] == "call 2"


async def test_concurrent_duplicates_share_one_run() -> None:
    app = Fulfillment()
    started = 0
    release = asyncio.Event()

    @app.intent("GetAccountBalance")
    async def slow(request: DialogflowESRequest) -> Reply:
        nonlocal started
        started += 1
        await release.wait()
        return Reply(text="done")

    es = load_fixture("es_get_account_balance.json")
    async with asgi_client(app) as client:
        calls = [asyncio.create_task(client.post("/", json=es)) for _ in range(3)]
        await asyncio.sleep(0.05)
        release.set()
        responses = await asyncio.gather(*calls)
    assert started == 1
    assert {r.json()["fulfillmentText"] for r in responses} == {"done"}


async def test_failed_handlers_are_not_remembered() -> None:
    app = Fulfillment()
    attempts = 0

    @app.intent("GetAccountBalance")
    def flaky(request: DialogflowESRequest) -> Reply:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise ConnectionError("core banking timed out")
        return Reply(text="1,204.50 EUR")

    es = load_fixture("es_get_account_balance.json")
    async with asgi_client(app) as client:
        first = await client.post("/", json=es)
        retry = await client.post("/", json=es)
    assert first.json()["fulfillmentText"].startswith("Sorry")
    assert retry.json()["fulfillmentText"] == "1,204.50 EUR"


def test_memo_is_bounded_least_recently_used_first() -> None:
    clock = ManualClock()
    memo = ReplyMemo(max_entries=2, clock=clock)
    memo.remember("a", StoredAnswer(200, b"a"))
    memo.remember("b", StoredAnswer(200, b"b"))
    assert memo.recall("a") == StoredAnswer(200, b"a")  # "a" is now the most recent
    memo.remember("c", StoredAnswer(200, b"c"))
    assert len(memo) == 2
    assert memo.recall("b") is None
    assert memo.recall("a") is not None
    assert memo.recall("c") is not None
