"""The HTTP edge under a real uvicorn server: routes, verification and error answers."""

from __future__ import annotations

import base64
import logging
import zlib
from datetime import UTC, datetime

import orjson
import pytest
import standardwebhooks

from hookd.core.signing import generate_hmac_secret
from hookd.fulfillment import (
    ActionExecutionRejected,
    BasicAuth,
    DialogflowESRequest,
    Fulfillment,
    HeaderToken,
    RasaRequest,
    Reply,
    StandardWebhooksSignature,
)
from tests.fulfillment.fulfillment_harness import asgi_client, load_fixture, uvicorn_server

ES = load_fixture("es_get_account_balance.json")
RASA = load_fixture("rasa_action_check_balance.json")


def banking_app(**options: object) -> Fulfillment:
    app = Fulfillment(**options)  # type: ignore[arg-type]

    @app.intent("GetAccountBalance")
    def balance(request: DialogflowESRequest) -> Reply:
        return Reply(text="1,204.50 EUR")

    @app.action("action_check_balance")
    def check(request: RasaRequest) -> Reply:
        return Reply(text="1,204.50 EUR")

    @app.action("action_transfer")
    def transfer(request: RasaRequest) -> Reply:
        raise ActionExecutionRejected("transfers are closed at night")

    return app


async def test_rasa_health_actions_and_webhook_over_uvicorn() -> None:
    async with uvicorn_server(banking_app()) as client:
        health = await client.get("/health")
        actions = await client.get("/actions")
        webhook = await client.post("/webhook", json=RASA)

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert actions.json() == [{"name": "action_check_balance"}, {"name": "action_transfer"}]
    assert webhook.status_code == 200
    assert webhook.headers["content-type"] == "application/json"
    assert webhook.json()["responses"][0]["text"] == "1,204.50 EUR"


async def test_rasa_deflated_body_is_accepted() -> None:
    async with uvicorn_server(banking_app()) as client:
        response = await client.post(
            "/webhook",
            content=zlib.compress(orjson.dumps(RASA)),
            headers={"content-encoding": "deflate", "content-type": "application/json"},
        )
    assert response.status_code == 200
    assert response.json()["events"] == []


async def test_rasa_error_forms() -> None:
    rejected = {**RASA, "next_action": "action_transfer"}
    malformed = {**RASA, "tracker": {"events": "not a list"}}
    async with uvicorn_server(banking_app()) as client:
        rejected_response = await client.post("/webhook", json=rejected)
        malformed_response = await client.post("/webhook", json=malformed)

    assert rejected_response.status_code == 400
    assert rejected_response.json() == {
        "error": "transfers are closed at night",
        "action_name": "action_transfer",
    }
    assert malformed_response.status_code == 400
    assert malformed_response.json() == {
        "error": "events must be an array of objects",
        "action_name": "action_check_balance",
    }


@pytest.mark.parametrize(
    ("method", "content", "headers", "status", "code"),
    [
        ("POST", b"{not json", {}, 400, "invalid_json"),
        ("POST", b"[1, 2]", {}, 422, "unknown_platform"),
        ("POST", b'{"hello": "world"}', {}, 422, "unknown_platform"),
        ("POST", b'{"queryResult": []}', {}, 400, "invalid_request"),
        ("POST", b"x" * 2048, {}, 413, "payload_too_large"),
        ("POST", b"{}", {"content-encoding": "br"}, 415, "unsupported_encoding"),
        ("POST", b"not deflate", {"content-encoding": "deflate"}, 400, "invalid_body"),
        ("PUT", b"{}", {}, 405, "method_not_allowed"),
        ("GET", b"", {}, 405, "method_not_allowed"),
    ],
)
async def test_bad_requests_get_a_clean_4xx(
    method: str, content: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    async with asgi_client(banking_app(max_body_bytes=1024)) as client:
        response = await client.request(method, "/", content=content, headers=headers)
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]


async def test_deflate_bomb_is_refused() -> None:
    bomb = zlib.compress(b"{" + b" " * 10_000_000 + b"}")
    async with asgi_client(banking_app(max_body_bytes=4096)) as client:
        response = await client.post("/", content=bomb, headers={"content-encoding": "deflate"})
    assert response.status_code == 413


async def test_handler_exception_gets_the_error_reply_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = Fulfillment(error_reply=Reply(text="Our systems are down."))

    @app.intent("GetAccountBalance")
    def broken(request: DialogflowESRequest) -> Reply:
        raise RuntimeError("core banking unreachable")

    @app.action("action_check_balance")
    def wrong_type(request: RasaRequest) -> Reply:
        return "not a reply"  # type: ignore[return-value]

    with caplog.at_level(logging.ERROR, logger="hookd.fulfillment"):
        async with uvicorn_server(app) as client:
            es = await client.post("/", json=ES)
            rasa = await client.post("/webhook", json=RASA)

    assert es.status_code == 200
    assert es.json() == {
        "fulfillmentText": "Our systems are down.",
        "fulfillmentMessages": [{"text": {"text": ["Our systems are down."]}}],
    }
    assert rasa.status_code == 200
    assert rasa.json()["responses"][0]["text"] == "Our systems are down."
    failures = [r for r in caplog.records if r.exc_info]
    assert any("core banking unreachable" in str(r.exc_info[1]) for r in failures if r.exc_info)
    assert any("must return a Reply" in str(r.exc_info[1]) for r in failures if r.exc_info)


async def test_unserialisable_reply_falls_back_to_the_error_reply() -> None:
    app = Fulfillment(error_reply=Reply(text="Sorry."))

    @app.intent("GetAccountBalance")
    def odd(request: DialogflowESRequest) -> Reply:
        return Reply(payload={"when": object()})

    async with asgi_client(app) as client:
        response = await client.post("/", json=ES)
    assert response.status_code == 200
    assert response.json()["fulfillmentText"] == "Sorry."


async def test_basic_auth() -> None:
    app = banking_app(verification=BasicAuth("dialogflow", "s3cret"))
    good = "Basic " + base64.b64encode(b"dialogflow:s3cret").decode()
    bad = "Basic " + base64.b64encode(b"dialogflow:guess").decode()
    async with uvicorn_server(app) as client:
        ok = await client.post("/", json=ES, headers={"authorization": good})
        wrong = await client.post("/", json=ES, headers={"authorization": bad})
        missing = await client.post("/", json=ES)
        garbage = await client.post("/", json=ES, headers={"authorization": "Basic %%%"})

    assert ok.status_code == 200
    for response in (wrong, missing, garbage):
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"


async def test_bearer_and_custom_header_tokens() -> None:
    bearer = banking_app(verification=HeaderToken("tok_123"))
    header = banking_app(verification=HeaderToken("key_9", header="X-Api-Key", scheme=""))
    async with asgi_client(bearer) as client:
        assert (
            await client.post("/", json=ES, headers={"authorization": "Bearer tok_123"})
        ).is_success
        assert (
            await client.post("/", json=ES, headers={"authorization": "Bearer no"})
        ).status_code == 401
        assert (await client.get("/actions")).status_code == 401
        assert (await client.get("/health")).status_code == 200
    async with asgi_client(header) as client:
        assert (await client.post("/", json=ES, headers={"x-api-key": "key_9"})).is_success
        assert (await client.post("/", json=ES, headers={"x-api-key": "key_8"})).status_code == 401


async def test_standard_webhooks_signature_made_by_the_reference_library() -> None:
    secret = generate_hmac_secret()
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    app = banking_app(verification=StandardWebhooksSignature([secret]), clock=lambda: now)
    body = orjson.dumps(ES)
    signature = standardwebhooks.Webhook(secret).sign("msg_2p1", now, body.decode())
    headers = {
        "webhook-id": "msg_2p1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }
    svix_headers = {k.replace("webhook-", "svix-"): v for k, v in headers.items()}
    stale = {**headers, "webhook-timestamp": str(int(now.timestamp()) - 3600)}
    async with uvicorn_server(app) as client:
        ok = await client.post("/", content=body, headers=headers)
        svix_ok = await client.post("/", content=body, headers=svix_headers)
        tampered = await client.post(
            "/", content=body.replace(b"savings", b"premium"), headers=headers
        )
        old = await client.post("/", content=body, headers=stale)
        unsigned = await client.post("/", content=body)

    assert ok.status_code == 200
    assert svix_ok.status_code == 200
    assert tampered.status_code == 401
    assert tampered.json() == {"code": "unauthorized", "detail": "no signature matches"}
    assert old.json() == {"code": "unauthorized", "detail": "webhook-timestamp is too old"}
    assert unsigned.status_code == 401


async def test_mounted_under_fastapi() -> None:
    from fastapi import FastAPI

    api = FastAPI()
    api.mount("/fulfillment", banking_app())
    async with uvicorn_server(api) as client:  # type: ignore[arg-type]
        # Starlette redirects the bare mount path to its slash form, so platforms get the latter.
        es = await client.post("/fulfillment/", json=ES)
        health = await client.get("/fulfillment/health")
    assert es.json()["fulfillmentText"] == "1,204.50 EUR"
    assert health.json() == {"status": "ok"}
