"""The banking-bot example answers one ES and one CX request, and `serve` runs it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from types import ModuleType

import httpx
import pytest

from hookd.fulfillment import Fulfillment, load_target
from tests.fulfillment.fulfillment_harness import REPO_ROOT, asgi_client, load_fixture


@pytest.fixture
def banking_bot(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    monkeypatch.delenv("BANKING_BOT_USER", raising=False)
    from examples.banking_bot import app as module

    return module


async def test_banking_bot_answers_es_and_cx(banking_bot: ModuleType) -> None:
    async with asgi_client(banking_bot.app) as client:
        es = await client.post("/", json=load_fixture("es_get_account_balance.json"))
        cx = await client.post("/", json=load_fixture("cx_check_balance.json"))

    session = "projects/acme-bank-7f3a/agent/sessions/5f0c2a3e-8d1b-4c7e-b2a9-0e6f1d3c4b5a"
    assert es.json() == {
        "fulfillmentText": "Your savings balance is 1,204.50 EUR.",
        "fulfillmentMessages": [{"text": {"text": ["Your savings balance is 1,204.50 EUR."]}}],
        "outputContexts": [
            {
                "name": f"{session}/contexts/session-vars",
                "lifespanCount": 50,
                "parameters": {
                    "customer_id": "cus_1042",
                    "account": "savings",
                    "account.original": "savings account",
                    "last_account": "savings",
                },
            }
        ],
    }
    assert cx.json() == {
        "fulfillmentResponse": {
            "messages": [{"text": {"text": ["Your checking balance is 310.00 EUR."]}}]
        },
        "sessionInfo": {"parameters": {"last_account": "checking"}},
    }


def test_load_target(banking_bot: ModuleType) -> None:
    assert isinstance(load_target("examples.banking_bot.app:app"), Fulfillment)
    with pytest.raises(ValueError, match="must look like"):
        load_target("examples.banking_bot.app")
    with pytest.raises(ValueError, match="cannot import"):
        load_target("examples.no_such_bot:app")
    with pytest.raises(ValueError, match="no attribute"):
        load_target("examples.banking_bot.app:missing")
    with pytest.raises(ValueError, match="not a hookd Fulfillment"):
        load_target("examples.banking_bot.app:BALANCES")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_runs_the_example_under_uvicorn() -> None:
    port = free_port()
    code = (
        "from hookd.fulfillment import serve; "
        f"serve('examples.banking_bot.app:app', host='127.0.0.1', port={port})"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        response = None
        for _ in range(200):
            try:
                response = httpx.post(
                    f"http://127.0.0.1:{port}/",
                    json=load_fixture("cx_check_balance.json"),
                )
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert response is not None, "the server did not come up"
        assert response.status_code == 200
        assert "310.00 EUR" in response.text
    finally:
        process.terminate()
        process.wait(timeout=10)
