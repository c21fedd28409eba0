"""The deadline guard answers in time when a handler overruns its budget.

The only timing assertions in this suite, with margins wide enough for a loaded CI box.
"""

from __future__ import annotations

import asyncio
import time

from hookd.fulfillment import (
    DialogflowCXRequest,
    DialogflowESRequest,
    Fulfillment,
    LexIntentState,
    LexRequest,
    Reply,
)
from tests.fulfillment.fulfillment_harness import asgi_client, load_fixture, uvicorn_server

ES = load_fixture("es_get_account_balance.json")


async def test_async_handler_overrun_returns_the_timeout_reply_and_is_cancelled() -> None:
    app = Fulfillment(deadline_seconds=0.3, timeout_reply=Reply(text="Still checking, hold on."))
    cancelled = asyncio.Event()

    @app.intent("GetAccountBalance")
    async def stuck(request: DialogflowESRequest) -> Reply:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return Reply(text="too late")

    async with uvicorn_server(app) as client:
        started = time.monotonic()
        response = await client.post("/", json=ES)
        elapsed = time.monotonic() - started

    assert elapsed < 2
    assert response.status_code == 200
    assert response.json()["fulfillmentText"] == "Still checking, hold on."
    await asyncio.wait_for(cancelled.wait(), timeout=2)


async def test_sync_handler_overrun_returns_the_timeout_reply_and_is_not_remembered() -> None:
    app = Fulfillment(deadline_seconds=0.3)
    runs = 0

    @app.tag("check-balance")
    def slow(request: DialogflowCXRequest) -> Reply:
        nonlocal runs
        runs += 1
        if runs == 1:
            time.sleep(1)
        return Reply(text="310.00 EUR")

    cx = load_fixture("cx_check_balance.json")
    async with asgi_client(app) as client:
        started = time.monotonic()
        late = await client.post("/", json=cx)
        elapsed = time.monotonic() - started
        retry = await client.post("/", json=cx)

    assert elapsed < 2
    text = late.json()["fulfillmentResponse"]["messages"][0]["text"]["text"][0]
    assert text.startswith("Sorry, that is taking longer")
    assert retry.json()["fulfillmentResponse"]["messages"][0]["text"]["text"] == ["310.00 EUR"]


async def test_lex_timeout_closes_the_intent_as_failed() -> None:
    app = Fulfillment(deadline_seconds=0.3)

    @app.lex_intent("OrderFlowers")
    async def stuck(request: LexRequest) -> Reply:
        await asyncio.sleep(5)
        return Reply(text="too late")

    async with asgi_client(app) as client:
        response = await client.post("/", json=load_fixture("lex_order_flowers.json"))

    state = response.json()["sessionState"]
    assert state["dialogAction"] == {"type": "Close"}
    assert state["intent"]["state"] == LexIntentState.FAILED
