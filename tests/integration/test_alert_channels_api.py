"""/api/v1/alert/channel through a real `hookd serve` (SQLite and PostgreSQL): create, list, get,
update, delete and test; secrets masked in answers and sealed at rest; bad input answered 4xx.
A webhook channel's notices are hookd's own deliveries: signed (checked with the official
standardwebhooks library), retried and recorded."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from aiohttp import web
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from hookd.config import Settings
from hookd.services.alerts.notify import notify
from hookd.services.alerts.webhook_app import ALERT_APP_ID
from hookd.services.context import Context
from hookd.store.db import Database
from hookd.store.schema import alert_channels
from tests.alert_support import sample_notice, smtp_server
from tests.support import TOKEN, HookdServer, NewServer, Received, Receiver, eventually

BASE = "/api/v1/alert/channel"


def database_url(server: HookdServer) -> str:
    return server.env.get("HOOKD_DATABASE_URL") or f"sqlite:///{server.data_dir / 'hookd.db'}"


def secret_path() -> str:
    """A distinctive incoming-webhook path: the part of the URL that is the credential."""
    return f"/services/T0/B0/{uuid.uuid4().hex}"


async def create(api: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(BASE, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_a_slack_channel_from_create_to_delete(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    path = secret_path()
    url = receiver.url_for(path)
    masked = f"http://127.0.0.1:{receiver.port}/****{path[-4:]}"
    created = await create(api, {"name": "ops", "type": "slack", "config": {"url": url}})
    channel_id = created["id"]
    assert channel_id.startswith("achan_")
    assert created["config"] == {"url": masked}
    assert created["disabled"] is False and created["name"] == "ops"

    got = (await api.get(f"{BASE}/{channel_id}")).json()
    assert got == created
    listed = (await api.get(BASE, params={"limit": 250})).json()
    assert created in listed["data"]
    assert path not in str(listed)
    secret = (await api.get(f"{BASE}/{channel_id}/secret")).json()
    assert secret == {"url": url, "key": None}

    patched = await api.patch(f"{BASE}/{channel_id}", json={"name": "ops-2", "disabled": True})
    assert patched.status_code == 200
    assert patched.json()["name"] == "ops-2" and patched.json()["disabled"] is True
    assert patched.json()["config"] == {"url": masked}

    # PUT with the masked URL sent back keeps the stored one.
    put = await api.put(
        f"{BASE}/{channel_id}", json={"name": "ops-3", "type": "slack", "config": {"url": masked}}
    )
    assert put.status_code == 200 and put.json()["disabled"] is False
    assert (await api.get(f"{BASE}/{channel_id}/secret")).json()["url"] == url

    tested = await api.post(f"{BASE}/{channel_id}/test")
    assert tested.status_code == 200, tested.text
    assert tested.json() == {"ok": True, "statusCode": 204, "msgId": None}
    [request] = await receiver.wait_for(1, path=path)
    body = request.body.decode()
    assert '"blocks"' in body and "Test notice: test of channel ops-3" in body

    assert (await api.delete(f"{BASE}/{channel_id}")).status_code == 204
    gone = await api.get(f"{BASE}/{channel_id}")
    assert gone.status_code == 404 and gone.json()["code"] == "not_found"
    assert (await api.delete(f"{BASE}/{channel_id}")).status_code == 404


async def test_lists_page_like_every_list(api: httpx.AsyncClient, receiver: Receiver) -> None:
    made = [
        (await create(api, {"name": f"c{i}", "type": "discord", "config": {"url": receiver.url}}))[
            "id"
        ]
        for i in range(3)
    ]
    seen: list[str] = []
    iterator = None
    for _ in range(100):
        params: dict[str, Any] = {"limit": 1, "order": "descending"}
        if iterator:
            params["iterator"] = iterator
        page = (await api.get(BASE, params=params)).json()
        seen += [item["id"] for item in page["data"]]
        if page["done"] or set(made) <= set(seen):
            break
        iterator = page["iterator"]
    assert seen[:3] == made[::-1]  # newest first
    for channel_id in made:
        await api.delete(f"{BASE}/{channel_id}")


async def test_urls_are_sealed_at_rest(
    api: httpx.AsyncClient, hookd: HookdServer, receiver: Receiver
) -> None:
    path = secret_path()
    created = await create(
        api, {"name": "sealed", "type": "teams", "config": {"url": receiver.url_for(path)}}
    )
    db = Database(database_url(hookd))
    try:
        async with db.read() as conn:
            query = select(alert_channels.c.config).where(alert_channels.c.id == created["id"])
            stored = (await conn.execute(query)).scalar_one()
    finally:
        await db.close()
    assert isinstance(stored, str) and stored.startswith("hks1.")
    token = path.rsplit("/", 1)[-1].encode()
    if "HOOKD_DATABASE_URL" not in hookd.env:  # SQLite: not in the file, nor in its WAL
        files = list(hookd.data_dir.glob("hookd.db*"))
        assert files
        for file in files:
            assert token not in file.read_bytes()


def loc(response: httpx.Response) -> list[Any]:
    detail = response.json()["detail"]
    assert isinstance(detail, list)
    return list(detail[0]["loc"])


SLACK = "https://hooks.slack.com/services/T0/B0/x"
BAD_CREATES: list[tuple[dict[str, Any], str, list[Any] | None]] = [
    ({"name": "x", "type": "pager", "config": {}}, "validation", ["body", "type"]),
    ({"name": "", "type": "slack", "config": {"url": SLACK}}, "validation", ["body", "name"]),
    ({"name": "x", "type": "slack"}, "validation", ["body", "config"]),
    ({"name": "x", "type": "slack", "config": "url"}, "validation", ["body", "config"]),
    ({"name": "x", "type": "slack", "config": {}}, "validation", ["body", "config", "url"]),
    ({"name": "x", "type": "slack", "config": {"url": 5}}, "validation", ["body", "config", "url"]),
    (
        {"name": "x", "type": "webhook", "config": {"url": []}},
        "validation",
        ["body", "config", "url"],
    ),
    ({"name": "x", "type": "email", "config": {"to": [None]}}, "smtp_not_configured", None),
    (
        {"name": "x", "type": "slack", "config": {"url": "http://hooks.slack.com/services/x"}},
        "validation",
        ["body", "config", "url"],
    ),
    (
        {"name": "x", "type": "teams", "config": {"url": "https://10.1.2.3/x"}},
        "url_not_allowed",
        ["body", "config", "url"],
    ),
    (
        {"name": "x", "type": "discord", "config": {"url": "https://discord.com/api/****abcd"}},
        "validation",
        ["body", "config", "url"],
    ),
    (
        {"name": "x", "type": "slack", "config": {"url": SLACK, "channel": "#ops"}},
        "validation",
        ["body", "config", "channel"],
    ),
    (
        {"name": "x", "type": "email", "config": {"to": ["ops@example.com"]}},
        "smtp_not_configured",
        ["body", "type"],
    ),
    (
        {"name": "x", "type": "webhook", "config": {"url": "https://example.com", "secret": "no"}},
        "validation",
        ["body", "config", "secret"],
    ),
    (
        {"name": "x", "type": "webhook", "config": {"url": "redis://example.com/0"}},
        "validation",
        ["body", "config", "url"],
    ),
    (
        {"name": "x", "type": "webhook", "config": {"url": "http://169.254.169.254/"}},
        "url_not_allowed",
        ["body", "config", "url"],
    ),
    (
        {"name": "x", "type": "slack", "config": {"url": SLACK}, "disabled": "yes"},
        "validation",
        ["body", "disabled"],
    ),
]


@pytest.mark.parametrize(("body", "code", "where"), BAD_CREATES)
async def test_bad_creates_are_refused_with_a_code_and_a_detail(
    api: httpx.AsyncClient, body: dict[str, Any], code: str, where: list[Any] | None
) -> None:
    response = await api.post(BASE, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    assert where is None or loc(response) == where
    assert response.json()["detail"][0]["msg"]


async def test_bad_updates_and_unknown_channels(api: httpx.AsyncClient, receiver: Receiver) -> None:
    created = await create(api, {"name": "x", "type": "slack", "config": {"url": receiver.url}})
    channel = f"{BASE}/{created['id']}"
    changed = await api.patch(channel, json={"type": "discord"})
    assert changed.status_code == 422 and changed.json()["code"] == "type_immutable"
    masked = await api.patch(channel, json={"config": {"url": "http://127.0.0.1:1/****wxyz"}})
    assert masked.status_code == 422 and loc(masked) == ["body", "config", "url"]
    no_config = await api.put(channel, json={"name": "x"})
    assert no_config.status_code == 422 and loc(no_config) == ["body", "config"]
    not_json = await api.post(BASE, content=b"{", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 422 and not_json.json()["code"] == "validation"
    for method, suffix in [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/test"),
        ("GET", "/secret"),
        ("POST", "/secret/rotate"),
    ]:
        response = await api.request(method, f"{BASE}/achan_nope{suffix}", json={})
        assert response.status_code == 404, (method, suffix, response.text)
        assert response.json()["code"] == "not_found"
    rotate = await api.post(f"{channel}/secret/rotate", json={})
    assert rotate.status_code == 404  # a Slack channel has no signing secret
    await api.delete(channel)


async def test_a_failing_test_send_is_a_502_without_the_url(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    async def no_service(_: Received) -> web.Response:
        return web.Response(status=404, text="no_service")

    receiver.default = no_service
    path = secret_path()
    created = await create(
        api, {"name": "x", "type": "slack", "config": {"url": receiver.url_for(path)}}
    )
    response = await api.post(f"{BASE}/{created['id']}/test")
    assert response.status_code == 502
    assert response.json() == {
        "code": "channel_test_failed",
        "detail": "Slack answered 404: no_service",
    }
    assert path not in response.text


async def test_a_webhook_channel_sends_signed_recorded_deliveries(
    api: httpx.AsyncClient, hookd: HookdServer, receiver: Receiver
) -> None:
    created = await create(
        api, {"name": "pager", "type": "webhook", "config": {"url": receiver.url_for("/alerts")}}
    )
    channel_id, config = created["id"], created["config"]
    assert config["appId"] == ALERT_APP_ID and config["endpointId"].startswith("ep_")
    assert config["url"] == receiver.url_for("/alerts")
    key = (await api.get(f"{BASE}/{channel_id}/secret")).json()["key"]
    assert key.startswith("whsec_") and key not in str(created)

    # The evaluator's call, made here on the server's own database; the server delivers it.
    db = Database(database_url(hookd))
    try:
        await notify(Context(db=db, settings=Settings()), sample_notice(), [channel_id])
    finally:
        await db.close()
    [request] = await receiver.wait_for(1, path="/alerts")
    payload = Webhook(key).verify(request.body, request.headers)
    assert payload["type"] == "alert.issue.opened"
    assert payload["data"]["issueId"] == "iss_2Ab"
    assert payload["data"]["summary"] == "Failure rate 62% ≥ 50% over 5 min (120 attempts)"
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "A" * 32).verify(request.body, request.headers)

    # Recorded like any message: listed with its successful attempt.
    messages = (await api.get(f"/api/v1/app/{ALERT_APP_ID}/msg")).json()["data"]
    [sent] = [m for m in messages if m["id"] == request.headers["webhook-id"]]
    assert sent["eventType"] == "alert.issue.opened"

    async def attempt_recorded() -> bool:
        attempts = await api.get(f"/api/v1/app/{ALERT_APP_ID}/attempt/msg/{sent['id']}")
        return any(a["status"] == 0 for a in attempts.json()["data"])

    await eventually(attempt_recorded)

    # The test route queues a test notice; after a rotation, it is signed with the new key.
    assert (await api.post(f"{BASE}/{channel_id}/secret/rotate", json={})).status_code == 204
    new_key = (await api.get(f"{BASE}/{channel_id}/secret")).json()["key"]
    assert new_key != key
    tested = await api.post(f"{BASE}/{channel_id}/test")
    assert tested.status_code == 200 and tested.json()["msgId"].startswith("msg_")
    [_, test_request] = await receiver.wait_for(2, path="/alerts")
    test_payload = Webhook(new_key).verify(test_request.body, test_request.headers)
    assert test_payload["type"] == "alert.channel.test"

    # Hidden: not among the applications, nor the operational webhook endpoints.
    apps = (await api.get("/api/v1/app", params={"limit": 250})).json()["data"]
    assert ALERT_APP_ID not in [app["id"] for app in apps]
    operational = (await api.get("/api/v1/operational-webhook/endpoint")).json()["data"]
    assert config["endpointId"] not in [endpoint["id"] for endpoint in operational]

    # Updating the URL moves the endpoint; deleting the channel deletes it.
    moved = await api.patch(
        f"{BASE}/{channel_id}", json={"config": {"url": receiver.url_for("/moved")}}
    )
    assert moved.status_code == 200 and moved.json()["config"]["url"].endswith("/moved")
    assert moved.json()["config"]["endpointId"] == config["endpointId"]
    assert (await api.delete(f"{BASE}/{channel_id}")).status_code == 204
    endpoint = await api.get(f"/api/v1/app/{ALERT_APP_ID}/endpoint/{config['endpointId']}")
    assert endpoint.status_code == 404


async def test_an_email_channel_through_the_server(new_server: NewServer) -> None:
    with smtp_server() as (mailbox, port):
        server = new_server(
            {
                "HOOKD_SMTP_HOST": "127.0.0.1",
                "HOOKD_SMTP_PORT": str(port),
                "HOOKD_SMTP_FROM": "hookd <alerts@hookd.example>",
                "HOOKD_SMTP_STARTTLS": "false",
            }
        )
        server.start()
        async with httpx.AsyncClient(
            base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        ) as api:
            created = await create(
                api, {"name": "oncall", "type": "email", "config": {"to": ["oncall@example.com"]}}
            )
            assert created["config"] == {"to": ["oncall@example.com"]}
            tested = await api.post(f"{BASE}/{created['id']}/test")
            assert tested.status_code == 200, tested.text
    [(envelope, message)] = mailbox.messages
    assert envelope.rcpt_tos == ["oncall@example.com"]
    assert message["Subject"] == "[hookd] test: test of channel oncall"
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None
