"""Alert rules and alert channels together, end to end, through a real `hookd serve` (SQLite and
PostgreSQL) whose own evaluator runs every 0.2 s.

A failure-rate rule on an endpoint whose receiver answers 500 notifies three channels: Slack (an
aiohttp receiver on 127.0.0.1, allowed by HOOKD_ALLOW_NETWORKS), email (a real SMTP server,
aiosmtpd, with STARTTLS required, its certificate verified against the test CA, and a login) and a
webhook channel (hookd's own signed delivery, verified with the standardwebhooks library). The
issue opens, each channel hears "opened"; the receiver recovers, the issue resolves itself, each
channel hears "resolved". Then: which channels a rule may name, and what deleting one a rule
names does (refused, also when the two race).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from standardwebhooks.webhooks import Webhook

from hookd.config import Settings
from hookd.services.alerts import channels as alert_channels
from hookd.services.alerts import rules as alert_rules
from hookd.services.context import Context
from hookd.services.errors import Conflict, Invalid
from hookd.store.alerts import channels as channel_store
from hookd.store.alerts import records as rule_store
from hookd.store.db import Database
from tests.alert_support import SMTP_PASSWORD, SMTP_USER, Mailbox, server_tls, smtp_server
from tests.integration.engine_support import (
    ServerFactory,
    client,
    create_app,
    create_endpoint,
    engine_server,
    send,
)
from tests.integration.test_alerts import create_rule, issue_of
from tests.pg import create_database, drop_database
from tests.pki import make_pki
from tests.support import Received, Receiver, eventually
from tests.unit.core.test_alert_messages import slack_blocks_valid

__all__ = ["engine_server"]

CHANNELS = "/api/v1/alert/channel"
SMTP_FROM = "hookd alerts <alerts@hookd.example>"
RECIPIENTS = ["oncall@example.com", "payments-team@example.org"]
RULE_NAME = "payments endpoint failing"
EMOJI = {"opened": ":red_circle:", "resolved": ":large_green_circle:"}


async def create_channel(api: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    answer = await api.post(CHANNELS, json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def mail(mailbox: Mailbox, count: int) -> list[EmailMessage]:
    """The first ``count`` messages the SMTP server accepted, once it has."""

    async def arrived() -> list[EmailMessage] | None:
        messages = [message for _, message in mailbox.messages]
        return messages[:count] if len(messages) >= count else None

    found: list[EmailMessage] = await eventually(arrived, timeout=60)
    return found


def slack_message(request: Received) -> dict[str, Any]:
    assert request.method == "POST" and request.headers["Content-Type"] == "application/json"
    message: dict[str, Any] = json.loads(request.body)
    slack_blocks_valid(message)  # Block Kit, as Slack's SDK parses it
    return message


def check_slack(request: Received, event: str, issue: dict[str, Any], rule_id: str) -> None:
    message = slack_message(request)
    title = f"Alert {event}: {RULE_NAME}"
    assert message["text"].startswith(title)
    section, context = message["blocks"]
    assert section["text"]["text"].startswith(f"{EMOJI[event]} *{title}*")
    assert issue["summary"] in section["text"]["text"]
    assert issue["affected"][0] in str(section["fields"])
    footer = context["elements"][0]["text"]
    assert f"issue {issue['id']}" in footer and f"rule {rule_id}" in footer


def check_email(message: EmailMessage, event: str, issue_id: str) -> None:
    assert message["Subject"] == f"[hookd] {event}: {RULE_NAME}"
    assert message["From"] == SMTP_FROM
    assert message["To"] == ", ".join(RECIPIENTS)
    assert message["Auto-Submitted"] == "auto-generated"
    plain = message.get_body(("plain",))
    assert plain is not None and issue_id in plain.get_content()
    assert message.get_body(("html",)) is not None


async def test_an_issue_opens_and_resolves_itself_and_every_channel_hears_both(
    engine_server: ServerFactory, receiver: Receiver, tmp_path: Path
) -> None:
    pki = make_pki()
    (tmp_path / "ca.pem").write_text(pki.ca)
    channels = Receiver()  # Slack's and the webhook channel's side
    await channels.start()
    slack_path = f"/services/T0/B0/{uuid.uuid4().hex}"  # the credential: never in a log line
    receiver.default = 500  # the endpoint the rule watches fails
    try:
        with smtp_server(server_tls(pki, tmp_path)) as (mailbox, smtp_port):
            server = engine_server(
                {
                    "HOOKD_ALERT_INTERVAL": "0.2",
                    "HOOKD_SMTP_HOST": "127.0.0.1",
                    "HOOKD_SMTP_PORT": str(smtp_port),
                    "HOOKD_SMTP_FROM": SMTP_FROM,
                    "HOOKD_SMTP_USERNAME": SMTP_USER,
                    "HOOKD_SMTP_PASSWORD": SMTP_PASSWORD,
                    # STARTTLS is on by default: the server's certificate is the test CA's.
                    "SSL_CERT_FILE": str(tmp_path / "ca.pem"),
                }
            )
            async with client(server) as api:
                await _scenario(api, receiver, channels, slack_path, mailbox)
            assert mailbox.logins == [SMTP_USER, SMTP_USER]  # after STARTTLS, each time
    finally:
        await channels.stop()
    log = server.log_path.read_text()
    assert "alert channel failed" not in log and "alert notice failed" not in log
    assert slack_path not in log and SMTP_PASSWORD not in log


async def _scenario(
    api: httpx.AsyncClient,
    receiver: Receiver,
    channels: Receiver,
    slack_path: str,
    mailbox: Mailbox,
) -> None:
    slack = await create_channel(
        api, name="ops on Slack", type="slack", config={"url": channels.url_for(slack_path)}
    )
    email = await create_channel(api, name="on-call mail", type="email", config={"to": RECIPIENTS})
    webhook = await create_channel(
        api, name="pager bridge", type="webhook", config={"url": channels.url_for("/alerts")}
    )
    key = (await api.get(f"{CHANNELS}/{webhook['id']}/secret")).json()["key"]

    app_id = await create_app(api, "payments")
    endpoint = await create_endpoint(api, app_id, url=receiver.url)
    rule = await create_rule(
        api,
        name=RULE_NAME,
        kind="failure_rate",
        scope="endpoint",
        scopeId=endpoint["id"],
        threshold=50,
        windowSeconds=60,
        minVolume=2,
        quietPeriodSeconds=1,
        channels=[slack["id"], email["id"], webhook["id"]],
    )
    assert rule["channels"] == [slack["id"], email["id"], webhook["id"]]
    for n in range(3):
        await send(api, app_id, n)

    issue = await issue_of(api, rule["id"], "open")
    assert issue["affected"] == [endpoint["id"]] and issue["value"] == 100
    [opened] = await channels.wait_for(1, timeout=60, path=slack_path)
    check_slack(opened, "opened", issue, rule["id"])
    [opened_mail] = await mail(mailbox, 1)
    check_email(opened_mail, "opened", issue["id"])
    envelope = mailbox.messages[0][0]
    assert envelope.mail_from == "alerts@hookd.example"
    assert sorted(envelope.rcpt_tos) == sorted(RECIPIENTS)
    [delivered] = await channels.wait_for(1, timeout=60, path="/alerts")
    notice = Webhook(key).verify(delivered.body, delivered.headers)
    assert notice["type"] == "alert.issue.opened"
    assert notice["data"] | {"openedAt": None} == {
        "event": "opened",
        "issueId": issue["id"],
        "ruleId": rule["id"],
        "ruleName": RULE_NAME,
        "kind": "failure_rate",
        "summary": issue["summary"],
        "scope": "endpoint",
        "affected": [endpoint["id"]],
        "openedAt": None,
        "resolvedAt": None,
        "link": issue["link"],
    }

    receiver.default = 200  # the endpoint recovers: retries and new messages succeed
    for n in range(30):
        await send(api, app_id, 100 + n)
    resolved = await issue_of(api, rule["id"], "resolved")
    assert resolved["id"] == issue["id"] and resolved["resolvedAt"] is not None
    listed = await api.get(
        "/api/v1/alert/issue", params={"rule_id": rule["id"], "status": "resolved"}
    )
    assert [found["id"] for found in listed.json()["data"]] == [issue["id"]]

    # The notices are sent once the change is committed: wait for each channel's second one.
    first, second = await channels.wait_for(2, timeout=60, path=slack_path)
    assert first is opened
    check_slack(second, "resolved", resolved, rule["id"])  # the summary: the last one seen
    assert "*Resolved*" in str(slack_message(second)["blocks"][0]["fields"])
    _, resolved_mail = await mail(mailbox, 2)
    check_email(resolved_mail, "resolved", resolved["id"])
    _, delivered_again = await channels.wait_for(2, timeout=60, path="/alerts")
    resolved_notice = Webhook(key).verify(delivered_again.body, delivered_again.headers)
    assert resolved_notice["type"] == "alert.issue.resolved"
    assert resolved_notice["data"]["issueId"] == issue["id"]
    assert resolved_notice["data"]["resolvedAt"] is not None


async def test_a_rule_names_existing_channels_and_a_named_channel_is_not_deleted(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    # Disabled rules: the shared server evaluates nothing of this test.
    first = await create_channel(api, name="ops", type="slack", config={"url": receiver.url})
    second = await create_channel(api, name="dev", type="discord", config={"url": receiver.url})
    rule = await create_rule(api, kind="endpoint_disabled", enabled=False, channels=[first["id"]])
    assert rule["channels"] == [first["id"]]
    rule_url = f"/api/v1/alert/rule/{rule['id']}"

    changes: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/api/v1/alert/rule", {"name": "x", "kind": "endpoint_disabled"}),
        ("PATCH", rule_url, {}),
        ("PUT", rule_url, {"name": "x", "kind": "endpoint_disabled", "enabled": False}),
    ]
    for method, url, body in changes:
        refused = await api.request(
            method, url, json=body | {"channels": [first["id"], "achan_nobody"]}
        )
        assert refused.status_code == 422, refused.text
        error = refused.json()
        assert error["code"] == "unknown_channel"
        [item] = error["detail"]
        assert item["loc"] == ["body", "channels"] and "achan_nobody" in item["msg"]
    assert (await api.get(rule_url)).json()["channels"] == [first["id"]]  # unchanged

    other = await create_rule(
        api, kind="breaker_open", enabled=False, channels=[second["id"], first["id"]]
    )
    refused = await api.delete(f"{CHANNELS}/{first['id']}")
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "channel_in_use"
    detail = refused.json()["detail"]
    assert "2 alert rules" in detail and rule["id"] in detail and other["id"] in detail
    assert (await api.get(f"{CHANNELS}/{first['id']}")).status_code == 200  # still there

    # Out of the rules (one changed, one deleted), the channel can go.
    patched = await api.patch(rule_url, json={"channels": []})
    assert patched.status_code == 200 and patched.json()["channels"] == []
    assert (await api.delete(f"/api/v1/alert/rule/{other['id']}")).status_code == 204
    assert (await api.delete(f"{CHANNELS}/{first['id']}")).status_code == 204
    gone = await api.patch(rule_url, json={"channels": [first["id"]]})
    assert gone.status_code == 422 and gone.json()["code"] == "unknown_channel"
    assert (await api.delete(f"{CHANNELS}/{second['id']}")).status_code == 204
    assert (await api.delete(rule_url)).status_code == 204


async def _waiting_on_a_lock(db: Database) -> bool:
    async with db.read() as conn:
        query = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return bool((await conn.execute(query)).scalar_one())


async def test_a_rule_saved_and_its_channel_deleted_at_once_never_leave_a_dangling_id() -> None:
    """PostgreSQL (SQLite runs one write transaction at a time): a channel delete that starts
    while a rule naming the channel is being saved waits for it and is refused; a rule saved
    while its channel is being deleted waits for it and is refused."""
    url = create_database()
    dbs = [Database(url) for _ in range(3)]
    ctx, other = (Context(db=db, settings=Settings(database_url=url)) for db in dbs[:2])
    slack = {"name": "ops", "type": "slack", "config": {"url": "https://hooks.slack.com/s/x"}}
    try:
        view = await alert_channels.create_channel(ctx, slack)
        rule = await alert_rules.create_rule(ctx, {"name": "r", "kind": "endpoint_disabled"})
        # A rule being changed to name the channel, its transaction not yet committed.
        async with ctx.db.write() as conn:
            found = await channel_store.channels_by_id(conn, [view.channel.id], share=True)
            assert list(found) == [view.channel.id]
            await rule_store.update_rule(conn, replace(rule, channels=(view.channel.id,)))
            delete = asyncio.create_task(alert_channels.delete_channel(other, view.channel.id))
            await eventually(lambda: _waiting_on_a_lock(dbs[2]))
        with pytest.raises(Conflict) as refused:
            await delete
        assert refused.value.code == "channel_in_use" and rule.id in refused.value.detail

        second = await alert_channels.create_channel(ctx, slack)
        # The channel being deleted, its transaction not yet committed.
        async with ctx.db.write() as conn:
            assert await channel_store.get_channel(conn, second.channel.id, lock=True)
            await channel_store.delete_channel(conn, second.channel.id)
            named = {"name": "late", "kind": "endpoint_disabled", "channels": [second.channel.id]}
            create = asyncio.create_task(alert_rules.create_rule(other, named))
            await eventually(lambda: _waiting_on_a_lock(dbs[2]))
        with pytest.raises(Invalid) as invalid:
            await create
        assert invalid.value.code == "unknown_channel"
    finally:
        for db in dbs:
            await db.close()
        drop_database(url)
