"""The real entry point: `python -m hookd serve` in a fresh interpreter, and the launcher beside it.

Every other test runs hookd in a fork of the tests' fork server (tests/launcher.py); this one
starts the command an operator runs, and checks that a launched server behaves the same: it
answers, stops on SIGTERM (uvicorn re-raises it after the graceful shutdown) and logs as it goes
(JSON lines, every one of them, off a terminal).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from hookd import __version__
from tests.support import TOKEN, HookdServer


@pytest.mark.parametrize("fresh_interpreter", [True, False], ids=["python-m-hookd", "launcher"])
def test_serve_starts_answers_and_stops_on_sigterm(tmp_path: Path, fresh_interpreter: bool) -> None:
    server = HookdServer(tmp_path / "server", fresh_interpreter=fresh_interpreter)
    server.start()
    try:
        response = httpx.post(
            f"{server.url}/api/v1/app",
            json={"name": "entry point"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert response.status_code == 201, response.text
        server.terminate()
    finally:
        server.stop()

    assert server.process is not None and server.process.returncode in (0, -15)
    lines = [json.loads(line) for line in server.log_path.read_text().splitlines()]
    [listening] = [line for line in lines if line["event"] == "hookd listening"]
    assert (listening["version"], listening["url"]) == (__version__, server.url)
    assert any(line["event"] == "hookd stopped" for line in lines)
