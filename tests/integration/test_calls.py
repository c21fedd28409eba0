"""Synchronous calls end to end: a real hookd, real receivers, the Standard Webhooks verifier."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import httpx
import orjson
import standardwebhooks
from aiohttp import web
from svix.api import SvixAsync
from svix.models import MessageAttemptTriggerType, MessageStatus

from tests.launcher import run_hookd
from tests.support import TOKEN, HookdServer, Received, Receiver, eventually


async def create_endpoint(api: httpx.AsyncClient, app_id: str, **fields: Any) -> dict[str, Any]:
    response = await api.post(f"/api/v1/app/{app_id}/endpoint", json=fields)
    assert response.status_code == 201, response.text
    endpoint: dict[str, Any] = response.json()
    return endpoint


async def call(
    api: httpx.AsyncClient, app_id: str, endpoint_id: str, **body: Any
) -> httpx.Response:
    return await api.post(f"/api/v1/app/{app_id}/endpoint/{endpoint_id}/call", json=body)


def json_answer(document: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(document), content_type="application/json")


async def test_call_is_signed_templated_mapped_and_recorded(
    api: httpx.AsyncClient, svix: SvixAsync, app_id: str, receiver: Receiver
) -> None:
    receiver.default = json_answer({"order": {"status": "shipped", "eta": "2026-12-01"}})
    endpoint = await create_endpoint(
        api,
        app_id,
        url=receiver.url,
        method="PUT",
        urlTemplate=receiver.url_for("/orders/{{ params.order_id }}?user=$session.params.user"),
        bodyTemplate='{"user": "$session.params.user", "qty": {{ params.qty }}}',
        responseMapping={"status": "$.order.status", "eta": "$.order.eta", "x": "$.nope"},
    )
    assert endpoint["method"] == "PUT"
    assert endpoint["timeoutMs"] == 5000
    secret = (await svix.endpoint.get_secret(app_id, endpoint["id"])).key

    response = await call(
        api, app_id, endpoint["id"], params={"order_id": "a/1", "user": 'Zoë "Z"', "qty": 3}
    )

    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == 200
    assert result["json"] == {"order": {"status": "shipped", "eta": "2026-12-01"}}
    assert result["mapped"] == {"status": "shipped", "eta": "2026-12-01", "x": None}
    assert result["headers"]["content-type"] == "application/json"
    assert result["fallback"] is False and result["error"] is None
    [request] = receiver.requests
    assert request.method == "PUT"
    assert request.path == "/orders/a/1"  # aiohttp decodes; the attempt shows what was sent
    assert orjson.loads(request.body) == {"user": 'Zoë "Z"', "qty": 3}
    standardwebhooks.Webhook(secret).verify(request.body, request.headers)
    assert request.headers["webhook-id"] == result["msgId"]

    attempts = await svix.message_attempt.list_by_msg(app_id, result["msgId"])
    [attempt] = attempts.data
    assert attempt.id == result["attemptId"]
    assert attempt.url.endswith("/orders/a%2F1?user=Zo%C3%AB%20%22Z%22")
    assert attempt.status == MessageStatus.SUCCESS
    assert attempt.trigger_type == MessageAttemptTriggerType.MANUAL
    message = await svix.message.get(app_id, result["msgId"])
    assert message.event_type == "hookd.call"
    raw = (await api.get(f"/api/v1/app/{app_id}/msg/{result['msgId']}")).json()
    assert raw["payload"] == {"user": 'Zoë "Z"', "qty": 3}, raw


async def test_payload_is_sent_when_there_is_no_body_template(
    api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    receiver.default = web.Response(status=500, text="upstream broke")
    endpoint = await create_endpoint(api, app_id, url=receiver.url)

    response = await call(api, app_id, endpoint["id"], payload={"intent": "balance"})

    # The endpoint answered: the caller gets its answer, with the failure named.
    assert response.status_code == 200
    result = response.json()
    assert result["status"] == 500
    assert result["body"] == "upstream broke"
    assert result["json"] is None
    assert result["error"]["code"] == "endpoint_error"
    assert result["queued"] is False
    [request] = receiver.requests
    assert request.method == "POST" and orjson.loads(request.body) == {"intent": "balance"}


async def slow(_: Received) -> web.Response:
    await asyncio.sleep(3)
    return web.Response(status=200)


async def test_timeout_is_504_and_recorded(
    api: httpx.AsyncClient, svix: SvixAsync, app_id: str, receiver: Receiver
) -> None:
    receiver.default = slow
    endpoint = await create_endpoint(api, app_id, url=receiver.url, timeoutMs=10_000)

    response = await call(api, app_id, endpoint["id"], timeoutMs=300)

    assert response.status_code == 504
    body = response.json()
    assert body["code"] == "timeout"
    assert "300 ms" in body["detail"]
    [attempt] = (await svix.message_attempt.list_by_msg(app_id, body["msgId"])).data
    assert attempt.id == body["attemptId"]
    assert attempt.status == MessageStatus.FAIL
    assert attempt.response_status_code == 0


async def test_fallback_response_stands_in_for_a_failed_call(
    api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    receiver.default = slow
    fallback = {"fulfillmentResponse": {"messages": [{"text": {"text": ["Try again later"]}}]}}
    endpoint = await create_endpoint(
        api,
        app_id,
        url=receiver.url,
        timeoutMs=300,
        fallbackResponse={"body": fallback},
        responseMapping={"reply": "$.fulfillmentResponse.messages[0].text.text[0]"},
    )

    response = await call(api, app_id, endpoint["id"])

    assert response.status_code == 200
    result = response.json()
    assert result["fallback"] is True
    assert result["status"] == 200
    assert result["json"] == fallback
    assert result["mapped"] == {"reply": "Try again later"}
    assert result["error"]["code"] == "timeout"


async def test_retry_async_turns_a_failed_call_into_a_queued_delivery(
    api: httpx.AsyncClient, svix: SvixAsync, app_id: str, receiver: Receiver
) -> None:
    receiver.responses = [503]
    receiver.default = 200
    endpoint = await create_endpoint(api, app_id, url=receiver.url, retryAsync=True)
    secret = (await svix.endpoint.get_secret(app_id, endpoint["id"])).key

    response = await call(api, app_id, endpoint["id"], payload={"n": 1})

    assert response.status_code == 200
    result = response.json()
    assert result["status"] == 503 and result["queued"] is True
    first, retry = await receiver.wait_for(2)
    assert retry.body == first.body
    assert retry.headers["webhook-id"] == result["msgId"]
    standardwebhooks.Webhook(secret).verify(retry.body, retry.headers)

    async def delivered() -> bool:
        attempts = (await svix.message_attempt.list_by_msg(app_id, result["msgId"])).data
        return [a.response_status_code for a in reversed(attempts)] == [503, 200]

    await eventually(delivered)


async def test_calls_refuse_bad_input(
    api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(
        api, app_id, url=receiver.url, urlTemplate=receiver.url_for("/u/{{ params.user_id }}")
    )
    path = f"/api/v1/app/{app_id}/endpoint"

    missing = await call(api, app_id, endpoint["id"], params={"other": 1})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "params", "user_id"]
    assert "user_id" in missing.json()["detail"][0]["msg"]

    unknown = await call(api, app_id, "ep_nope")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"

    broker = await create_endpoint(api, app_id, url="redis://127.0.0.1:6379/0?stream=calls")
    not_callable = await call(api, app_id, broker["id"])
    assert not_callable.status_code == 409 and not_callable.json()["code"] == "not_callable"

    too_long = await call(api, app_id, endpoint["id"], timeoutMs=30_001)
    assert too_long.status_code == 422

    await api.patch(f"{path}/{endpoint['id']}", json={"disabled": True})
    disabled = await call(api, app_id, endpoint["id"], params={"user_id": 1})
    assert disabled.status_code == 409 and disabled.json()["code"] == "endpoint_disabled"
    assert receiver.requests == []

    invalid: list[tuple[dict[str, Any], str]] = [
        ({"method": "HEAD"}, "method"),
        ({"timeoutMs": 0}, "timeoutMs"),
        ({"timeoutMs": 30_001}, "timeoutMs"),
        ({"responseMapping": {"status": "$.order["}}, "responseMapping"),
        ({"urlTemplate": "ftp://h/{{ params.a }}"}, "urlTemplate"),
        ({"urlTemplate": "https://h/{{ user }}"}, "urlTemplate"),
        ({"bodyTemplate": '{"a": $session.params.a'}, "bodyTemplate"),
        ({"auth": {"type": "basic", "username": "a:b", "password": "p"}}, "auth"),
        (
            {
                "auth": {
                    "type": "oauth2",
                    "tokenUrl": "file:///x",
                    "clientId": "c",
                    "clientSecret": "s",
                }
            },
            "auth",
        ),
        ({"tls": {"clientCert": "not a pem", "clientKey": "nope"}}, "tls"),
    ]
    for fields, field in invalid:
        bad = await api.post(path, json={"url": receiver.url, **fields})
        assert bad.status_code == 422, (fields, bad.text)
        assert bad.json()["code"] == "validation"
        assert field in orjson.dumps(bad.json()["detail"]).decode(), bad.text


async def test_secrets_are_masked_and_kept_when_sent_back(
    api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    token = "s3cr3t-bearer-token-0123456789"
    endpoint = await create_endpoint(
        api, app_id, url=receiver.url, auth={"type": "bearer", "token": token}
    )
    assert endpoint["auth"] == {"type": "bearer", "token": "****6789"}
    path = f"/api/v1/app/{app_id}/endpoint/{endpoint['id']}"
    shown = (await api.get(path)).json()
    assert token not in orjson.dumps(shown).decode()

    # A PUT of what GET showed keeps the secret; a PUT without auth leaves it alone.
    assert (await api.put(path, json={"url": receiver.url, "auth": shown["auth"]})).is_success
    assert (await api.put(path, json={"url": receiver.url})).is_success
    assert (await call(api, app_id, endpoint["id"])).status_code == 200
    assert receiver.requests[-1].headers["Authorization"] == f"Bearer {token}"

    assert (await api.patch(path, json={"auth": None})).json()["auth"] is None


async def test_cli_call_prints_the_answer(
    hookd: HookdServer, api: httpx.AsyncClient, app_id: str, receiver: Receiver
) -> None:
    receiver.default = json_answer({"balance": 12.5})
    endpoint = await create_endpoint(
        api,
        app_id,
        url=receiver.url,
        bodyTemplate='{"account": "$session.params.account", "n": {{ params.n }}}',
        responseMapping={"balance": "$.balance"},
    )
    # In a thread: the receiver the call reaches runs on this test's event loop.
    done = await asyncio.to_thread(
        run_hookd,
        [
            "call",
            app_id,
            endpoint["id"],
            "--param",
            "account=ch-1",
            "--params",
            '{"n": 2}',
            "--timeout-ms",
            "2000",
            "--url",
            hookd.url,
        ],
        env={**os.environ, "HOOKD_ADMIN_TOKEN": TOKEN},
    )

    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout)["mapped"] == {"balance": 12.5}
    assert orjson.loads(receiver.requests[0].body) == {"account": "ch-1", "n": 2}
