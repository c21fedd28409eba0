"""What the health routes answer for a state: the health port's thread also needs the event loop
to be turning."""

from __future__ import annotations

import time
from typing import cast

import orjson

from hookd.api.health.routes import LOOP_STALLED_SECONDS, Readiness
from hookd.store.db import Database


def _answer(readiness: Readiness, path: str, *, off_loop: bool) -> tuple[int, dict[str, str]]:
    answer = readiness.answer(path, off_loop=off_loop)
    assert answer is not None
    return answer[0], orjson.loads(answer[1])


def test_readiness_follows_the_check_and_liveness_the_loop() -> None:
    readiness = Readiness(cast(Database, None))
    readiness.ok = True
    assert _answer(readiness, "/readyz", off_loop=True)[0] == 200
    assert readiness.answer("/api/v1/app") is None
    readiness.ok = False
    for off_loop in (False, True):
        assert _answer(readiness, "/readyz", off_loop=off_loop) == (
            503,
            {"status": "error", "database": "unreachable"},
        )
        assert _answer(readiness, "/livez", off_loop=off_loop) == (200, {"status": "ok"})
    readiness.ok = True
    readiness.beat = time.monotonic() - LOOP_STALLED_SECONDS - 1
    assert _answer(readiness, "/livez", off_loop=True)[0] == 503
    assert _answer(readiness, "/api/v1/health/ready", off_loop=True)[0] == 503
    # On the loop itself, an answer is proof enough that it turns.
    assert _answer(readiness, "/livez", off_loop=False)[0] == 200
