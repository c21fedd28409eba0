"""hookd.fulfillment against rasa-sdk's own action server, the same requests sent to both.

rasa-sdk (the library Rasa ships for action servers) runs in a throwaway venv
(rasa_oracle/venv.py) with actions written the rasa-sdk way (rasa_oracle/action_server.py);
hookd runs the equivalent handlers under uvicorn. Both must give the same status and JSON.
"""

from __future__ import annotations

import json
import subprocess
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest

from hookd.fulfillment import (
    ActionExecutionRejected,
    Button,
    Card,
    FollowupEvent,
    Fulfillment,
    RasaRequest,
    Reply,
)
from tests.fulfillment.fulfillment_harness import load_fixture, uvicorn_server
from tests.fulfillment.rasa_oracle.venv import SCRIPT, oracle_python

REQUEST = load_fixture("rasa_action_check_balance.json")


def hookd_app() -> Fulfillment:
    """The same actions as rasa_oracle/action_server.py, written with hookd's SDK."""
    app = Fulfillment()

    @app.action("action_check_balance")
    def check_balance(request: RasaRequest) -> Reply:
        account = request.slot("account") or "current"
        return Reply(text=f"Your {account} balance is 1,204.50 EUR.", params={"balance": 1204.5})

    @app.action("action_offer_choices")
    async def offer_choices(request: RasaRequest) -> Reply:
        return Reply(
            text="Which account?",
            quick_replies=["Savings", "Checking"],
            payload={"ui": "account-picker"},
            followup_event=FollowupEvent("action_listen"),
        )

    @app.action("action_show_cards")
    def show_cards(request: RasaRequest) -> Reply:
        card = Card(
            "Savings",
            subtitle="IBAN ...4021",
            image_url="https://bank.example/savings.png",
            buttons=[Button("Show", "show savings")],
        )
        return Reply(cards=[card])

    @app.action("action_silent")
    def silent(request: RasaRequest) -> Reply:
        return Reply()

    @app.action("action_reset")
    def reset(request: RasaRequest) -> Reply:
        return Reply(
            params={"account": None},
            rasa_events=[
                {"event": "reset_slots", "timestamp": None},
                {"event": "restart", "timestamp": None},
            ],
        )

    @app.action("action_refuse")
    def refuse(request: RasaRequest) -> Reply:
        raise ActionExecutionRejected("transfers are closed at night")

    @app.action("action_refuse_quietly")
    def refuse_quietly(request: RasaRequest) -> Reply:
        raise ActionExecutionRejected

    @app.action("action_count_intents")
    def count_intents(request: RasaRequest) -> Reply:
        return Reply(text=f"{len(request.domain.get('intents', []))} intents")

    @app.action("action_echo")
    def echo(request: RasaRequest) -> Reply:
        return Reply(
            payload={
                "sender_id": request.sender_id,
                "slots": dict(request.slots),
                "intent": request.intent,
                "text": request.text,
                "active_loop": request.active_loop,
                "events": len(request.events),
            }
        )

    return app


@pytest.fixture(scope="session")
def rasa_sdk_url() -> Iterator[str]:
    """rasa_sdk.endpoint's Sanic app on a loopback port, for the whole session."""
    python = oracle_python()
    process = subprocess.Popen(
        [str(python), str(SCRIPT), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = f"http://127.0.0.1:{int(process.stdout.readline())}"
        for _ in range(300):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "rasa-sdk's action server exited"
            time.sleep(0.1)
        else:
            pytest.fail("rasa-sdk's action server did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(scope="session")
def rasa_sdk_trackers() -> list[dict[str, Any]]:
    """Tracker documents as rasa-sdk's own Tracker.current_state() writes them."""
    done = subprocess.run(
        [str(oracle_python()), str(SCRIPT), "trackers"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    documents: list[dict[str, Any]] = json.loads(done.stdout)
    return documents


@pytest.fixture
async def both(rasa_sdk_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    async with (
        httpx.AsyncClient(base_url=rasa_sdk_url, timeout=10) as rasa_sdk,
        uvicorn_server(hookd_app()) as hookd,
    ):
        yield rasa_sdk, hookd


Both = tuple[httpx.AsyncClient, httpx.AsyncClient]


async def post_both(both: Both, document: dict[str, Any]) -> tuple[httpx.Response, httpx.Response]:
    rasa_sdk, hookd = both
    return (
        await rasa_sdk.post("/webhook", json=document),
        await hookd.post("/webhook", json=document),
    )


def answer(response: httpx.Response) -> tuple[int, Any]:
    return response.status_code, response.json()


async def test_health_and_action_list_match(both: Both) -> None:
    rasa_sdk, hookd = both
    for path in ("/health", "/actions"):
        expected, actual = answer(await rasa_sdk.get(path)), answer(await hookd.get(path))
        if path == "/actions":
            # rasa-sdk lists in registration order, hookd sorted: Rasa reads it as a set.
            expected = (expected[0], sorted(expected[1], key=lambda a: a["name"]))
        assert actual == expected


@pytest.mark.parametrize(
    "action",
    [
        "action_check_balance",
        "action_offer_choices",
        "action_show_cards",
        "action_silent",
        "action_reset",
        "action_refuse",
        "action_refuse_quietly",
        "action_count_intents",
    ],
)
async def test_webhook_answers_match(both: Both, action: str) -> None:
    expected, actual = await post_both(both, {**REQUEST, "next_action": action})
    assert answer(actual) == answer(expected)
    assert expected.status_code in (200, 400)


async def test_deflated_call_answers_match(both: Both) -> None:
    rasa_sdk, hookd = both
    body = zlib.compress(orjson.dumps(REQUEST))
    headers = {"content-encoding": "deflate", "content-type": "application/json"}
    expected = await rasa_sdk.post("/webhook", content=body, headers=headers)
    actual = await hookd.post("/webhook", content=body, headers=headers)
    assert answer(actual) == answer(expected)
    assert expected.status_code == 200


async def test_unknown_action_is_the_same_404(both: Both) -> None:
    expected, actual = await post_both(both, {**REQUEST, "next_action": "action_nobody_wrote"})
    assert answer(actual) == answer(expected)
    assert expected.status_code == 404


async def test_domain_digest_protocol_matches(both: Both) -> None:
    """Rasa may send only ``domain_digest``; 449 asks it to resend the call with the domain."""
    digest = "digest-of-the-fixture-domain"
    with_domain = {**REQUEST, "next_action": "action_count_intents", "domain_digest": digest}
    without_domain = {key: value for key, value in with_domain.items() if key != "domain"}
    unknown_digest = {**without_domain, "domain_digest": "a-digest-nobody-sent"}
    no_digest = {key: value for key, value in without_domain.items() if key != "domain_digest"}
    unknown_action = {**unknown_digest, "next_action": "action_nobody_wrote"}
    for document, status in [
        (with_domain, 200),
        (without_domain, 200),
        (unknown_digest, 449),
        (no_digest, 449),
        (unknown_action, 404),
    ]:
        expected, actual = await post_both(both, document)
        assert expected.status_code == status
        assert answer(actual) == answer(expected)


@pytest.mark.parametrize(
    "document",
    [
        {"next_action": "action_silent", "tracker": {"sender_id": "a", "latest_message": []}},
        {"next_action": "action_silent", "tracker": {"sender_id": "a", "latest_message": "hi"}},
        {"next_action": "action_silent", "tracker": {"sender_id": "a", "latest_message": 7}},
    ],
)
async def test_malformed_calls_fail_in_both(both: Both, document: dict[str, Any]) -> None:
    """rasa-sdk crashes (500) on these; hookd answers the 400 form Rasa reads as a rejection."""
    document = {**document, "domain": REQUEST["domain"]}
    expected, actual = await post_both(both, document)
    assert expected.status_code >= 400
    assert actual.status_code == 400
    assert set(actual.json()) == {"error", "action_name"}
    assert actual.json()["action_name"] == "action_silent"


async def test_rasa_sdk_tracker_documents_read_the_same(
    both: Both, rasa_sdk_trackers: list[dict[str, Any]]
) -> None:
    """hookd reads rasa-sdk's own tracker documents as rasa-sdk's Tracker does."""
    assert len(rasa_sdk_trackers) >= 5
    for tracker in rasa_sdk_trackers:
        document = {
            "next_action": "action_echo",
            "sender_id": tracker["sender_id"],
            "tracker": tracker,
            "domain": REQUEST["domain"],
            "domain_digest": "digest-of-the-fixture-domain",
            "version": "3.10.2",
        }
        expected, actual = await post_both(both, document)
        assert expected.status_code == 200, expected.text
        assert answer(actual) == answer(expected)
