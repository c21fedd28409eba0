"""``api.send.create_door``: which message creates it answers itself and which it hands to the
app untouched (body included). What the app answers is the suites' to check through a server;
here the app and the create are stand-ins that record what reached them."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from hookd.api.auth import ApiKeys
from hookd.api.idempotency import CREATE_KEY
from hookd.api.send import create_door
from hookd.api.send.create_door import CreateDoor
from hookd.services import idempotency as keys
from hookd.services.errors import Conflict

TOKEN = "door-admin-token"
LIMIT = 1000
BODY = orjson.dumps({"eventType": "order.paid", "payload": {"n": 1}})


class App:
    """The app behind the door: records each request it got and the body it read."""

    def __init__(self) -> None:
        self.got: list[tuple[str, bytes]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        self.got.append((scope["path"], message.get("body", b"")))
        await Response(b"app", 299)(scope, receive, send)


def request(
    path: str = "/api/v1/app/app_1/msg",
    body: bytes = BODY,
    *,
    method: str = "POST",
    token: str | None = TOKEN,
    query: bytes = b"",
    content_type: bytes = b"application/json",
    length: bytes | None = None,
    extra: tuple[tuple[bytes, bytes], ...] = (),
) -> Scope:
    headers = [(b"content-type", content_type), *extra]
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if length is not None or body:
        headers.append((b"content-length", length or str(len(body)).encode()))
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": headers,
    }


async def run(door: CreateDoor, scope: Scope, body: bytes = BODY) -> tuple[int, bytes]:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    answer: dict[str, Any] = {"body": b""}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        else:
            answer["body"] += message.get("body", b"")

    await door(scope, receive, send)
    return answer["status"], answer["body"]


@pytest.fixture
def created(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The creates the door made itself (``create_response`` stood in for)."""
    made: list[dict[str, Any]] = []

    async def create_response(ctx: Any, app_id: str, body: Any, **options: Any) -> Response:
        made.append({"app_id": app_id, "event_type": body.event_type, **options})
        if app_id == "taken":
            raise Conflict("a message with this eventId already exists")
        return Response(b"created", 201)

    monkeypatch.setattr(create_door, "create_response", create_response)
    return made


def door(app: App) -> CreateDoor:
    return CreateDoor(app, ctx=None, api_keys=ApiKeys.admin(TOKEN), limit=LIMIT)  # type: ignore[arg-type]


async def test_a_plain_create_by_the_admin_is_answered_by_the_door(
    created: list[dict[str, Any]],
) -> None:
    app = App()
    assert await run(door(app), request(query=b"with_content=false")) == (201, b"created")
    assert app.got == []
    [made] = created
    assert made["app_id"] == "app_1" and made["event_type"] == "order.paid"
    assert (made["with_content"], made["validate"], made["idempotency_key"]) == (False, None, None)


async def test_an_idempotency_key_is_scoped_as_the_middleware_scopes_it(
    created: list[dict[str, Any]],
) -> None:
    scope = request(extra=((b"idempotency-key", b"auto_1"),))
    assert await run(door(App()), scope) == (201, b"created")
    scoped = keys.scoped_key("admin", "POST", "/api/v1/app/app_1/msg", b"auto_1")
    assert created[0]["idempotency_key"] == scoped == scope[CREATE_KEY]
    assert created[0]["request_fingerprint"] == keys.fingerprint(b"", BODY)


async def test_a_service_refusal_is_answered_as_the_api_answers_it(
    created: list[dict[str, Any]],
) -> None:
    status, body = await run(door(App()), request("/api/v1/app/taken/msg"))
    assert status == 409
    assert orjson.loads(body) == {
        "code": "conflict",
        "detail": "a message with this eventId already exists",
    }


@pytest.mark.parametrize(
    ("scope", "body"),
    [
        (request(token=None), BODY),  # no principal: the app's 401
        (request(token="someone-else"), BODY),  # not the admin: the app checks the rule
        (request(method="PUT"), BODY),
        (request("/api/v1/app/app_1/msg/"), BODY),  # another path
        (request("/api/v1/app/a/b/msg"), BODY),
        (request("/api/v1/app/app\x00/msg"), BODY),  # a NUL: the app's 422
        (request(query=b"tag=%00"), BODY),
        (request(query=b"with_content=maybe"), BODY),  # FastAPI's 422
        (request(content_type=b"text/plain"), BODY),
        (request(body=b'{"eventType": 1}'), b'{"eventType": 1}'),  # does not validate
        (request(body=b"{not json"), b"{not json"),
        (request(length=b"5000"), BODY),  # declared over the limit: the app's 413
        (request(length=b"chunked-ish"), BODY),
    ],
)
async def test_anything_else_goes_to_the_app_with_its_body(
    created: list[dict[str, Any]], scope: Scope, body: bytes
) -> None:
    app = App()
    assert await run(door(app), scope, body) == (299, b"app")
    assert created == []
    if scope["method"] == "POST" and not scope["path"].endswith("/msg/"):
        assert app.got[0][1] in (body, b"")  # read by the door and replayed, or not read


async def test_a_request_without_content_length_goes_to_the_app(
    created: list[dict[str, Any]],
) -> None:
    scope = request()
    scope["headers"] = [h for h in scope["headers"] if h[0] != b"content-length"]
    app = App()
    assert await run(door(app), scope) == (299, b"app")
    assert created == [] and app.got == [("/api/v1/app/app_1/msg", BODY)]


async def test_a_client_gone_before_its_body_gets_the_apps_408(
    created: list[dict[str, Any]],
) -> None:
    app = App()
    answer: dict[str, Any] = {}

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        answer.setdefault("status", message.get("status"))

    await door(app)(request(), receive, send)
    assert answer["status"] == 408 and created == [] and app.got == []
