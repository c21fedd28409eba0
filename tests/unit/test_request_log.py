"""``api.request_log``: one line per request, and its id on every answer and in the context."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest
import structlog
from fastapi import Depends, FastAPI
from starlette.types import Receive, Scope, Send

from hookd.api.auth import ApiKeys, require_admin
from hookd.api.request_log import RequestLog, request_id_from, request_id_of
from hookd.telemetry import REQUEST_ID

TOKEN = "hk_unit_token"


def make_app() -> FastAPI:
    app = FastAPI()
    app.state.api_keys = ApiKeys.admin(TOKEN)
    seen: list[str | None] = []
    app.state.seen = seen

    @app.get("/api/v1/app/{app_id}", dependencies=[Depends(require_admin)])
    async def get_app(app_id: str) -> dict[str, str]:
        seen.append(REQUEST_ID.get())  # what every line logged meanwhile carries
        return {"id": app_id}

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("boom")

    return app


async def failing_before_any_answer(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("nothing answered")


async def serve(
    app: Any, *requests: tuple[str, str, dict[str, str]]
) -> tuple[list[httpx.Response], list[MutableMapping[str, Any]]]:
    transport = httpx.ASGITransport(app=RequestLog(app), raise_app_exceptions=False)
    answers = []
    with structlog.testing.capture_logs() as logged:
        async with httpx.AsyncClient(transport=transport, base_url="http://hookd") as client:
            for method, path, headers in requests:
                answers.append(await client.request(method, path, headers=headers))
    return answers, [line for line in logged if line["event"] == "request served"]


async def test_a_line_per_request_with_template_status_principal_and_id() -> None:
    app = make_app()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    answers, lines = await serve(
        app,
        ("GET", "/api/v1/app/app_1", {**auth, "X-Request-Id": "given-1"}),
        ("GET", "/api/v1/app/app_1", {"Authorization": "Bearer wrong", "X-Request-Id": "a b"}),
        ("GET", "/nowhere", {}),
        ("POST", "/api/v1/app/app_1", {}),
        ("GET", "/broken", {}),
    )
    assert [a.status_code for a in answers] == [200, 401, 404, 405, 500]
    ids = [a.headers["x-request-id"] for a in answers]
    assert ids[0] == "given-1" and ids[1] != "a b"
    assert all(len(request_id) == 16 for request_id in ids[1:])
    assert len(set(ids)) == len(ids)
    assert [line["request_id"] for line in lines] == ids
    assert [
        (line["method"], line["route"], line["status"], line["principal"]) for line in lines
    ] == [
        ("GET", "/api/v1/app/{app_id}", 200, "admin"),
        ("GET", "/api/v1/app/{app_id}", 401, None),
        ("GET", "", 404, None),
        ("POST", "/api/v1/app/{app_id}", 405, None),
        ("GET", "/broken", 500, None),
    ]
    assert [line["log_level"] for line in lines] == ["info"] * 4 + ["warning"]
    assert all(line["client"] == "127.0.0.1" and line["duration_ms"] >= 0 for line in lines)
    assert app.state.seen == ["given-1"]  # bound while serving...
    assert REQUEST_ID.get() is None  # ...and only then


async def test_an_error_nobody_answered_is_a_500_with_the_id() -> None:
    answers, lines = await serve(failing_before_any_answer, ("GET", "/x", {"X-Request-Id": "r.9"}))
    [answer] = answers
    assert (answer.status_code, answer.json()["code"]) == (500, "internal_error")
    assert answer.headers["x-request-id"] == "r.9"
    assert [(line["status"], line["request_id"]) for line in lines] == [(500, "r.9")]


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("abc", True),
        ("A-Z_a.z:0-9", True),
        ("x" * 128, True),
        ("x" * 129, False),
        ("", False),
        ("with space", False),
        ("semi;colon", False),
        ("caf\u00e9", False),
        (None, False),
    ],
)
def test_which_request_ids_are_kept(given: str | None, kept: bool) -> None:
    headers = [] if given is None else [(b"x-request-id", given.encode())]
    chosen = request_id_of([(b"accept", b"*/*"), *headers])
    assert (chosen == given) is kept
    assert (request_id_from(given) == given) is kept
    if not kept:
        assert len(chosen) == 16 and chosen.replace("-", "").replace("_", "").isalnum()
