"""notify() sends an alert notice to real receivers: Slack, Teams and Discord messages to aiohttp
receivers on 127.0.0.1 through the runtime's SSRF-guarded poster, email to a real SMTP server
(aiosmtpd). One failing channel does not stop the others, and no log line holds a secret."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from aiohttp import web
from structlog.testing import capture_logs

from hookd.config import Settings
from hookd.engine.alerts.poster import GuardedPoster
from hookd.services.alerts import channels
from hookd.services.alerts.notify import notify, send_test
from hookd.services.context import Context
from tests.alert_support import (
    SMTP_PASSWORD,
    SMTP_USER,
    sample_notice,
    server_tls,
    smtp_server,
)
from tests.pki import make_pki
from tests.support import Received, Receiver
from tests.unit.core.test_alert_messages import (
    adaptive_card_schema,
    discord_within_limits,
    slack_blocks_valid,
)
from tests.unit.engine.fakes import sqlite_database

LOOPBACK = ("127.0.0.0/8",)
SMTP_FROM = "hookd alerts <alerts@hookd.example>"


def settings(**changes: Any) -> Settings:
    return Settings(allow_networks=LOOPBACK, request_timeout=5, **changes)


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[Context]:
    async with sqlite_database(tmp_path / "alerts.db") as db:
        config = settings()
        poster = GuardedPoster(config)
        try:
            yield Context(db=db, settings=config, alert_poster=poster)
        finally:
            await poster.close()


async def channel(ctx: Context, channel_type: str, config: dict[str, Any], **more: Any) -> str:
    view = await channels.create_channel(
        ctx, {"name": f"{channel_type} channel", "type": channel_type, "config": config, **more}
    )
    return view.channel.id


def posted(request: Received) -> dict[str, Any]:
    assert request.method == "POST"
    assert request.headers["Content-Type"] == "application/json"
    body: dict[str, Any] = json.loads(request.body)
    return body


async def test_each_chat_service_gets_its_documented_shape(
    ctx: Context, receiver: Receiver
) -> None:
    ids = [
        await channel(ctx, "slack", {"url": receiver.url_for("/slack/T0/B0/secretpart")}),
        await channel(ctx, "teams", {"url": receiver.url_for("/teams/workflow")}),
        await channel(ctx, "discord", {"url": receiver.url_for("/discord/1/token")}),
    ]
    await notify(ctx, sample_notice("escalated"), ids)
    by_path = {request.path: request for request in await receiver.wait_for(3)}
    slack = posted(by_path["/slack/T0/B0/secretpart"])
    slack_blocks_valid(slack)
    assert slack["blocks"][0]["text"]["text"].startswith(":large_orange_circle: *Alert escalated")

    teams = posted(by_path["/teams/workflow"])
    assert teams["type"] == "message"
    [attachment] = teams["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["$schema"] and card["type"] == "AdaptiveCard" and card["body"]
    assert card["version"] == "1.4"
    jsonschema.Draft6Validator(adaptive_card_schema()).validate(card)

    discord = posted(by_path["/discord/1/token"])
    embed = discord_within_limits(discord)
    assert embed["color"] == 0xE67E22  # orange: escalated
    assert discord["content"].startswith("**Alert escalated**")


async def test_a_failing_channel_does_not_stop_the_others(ctx: Context, receiver: Receiver) -> None:
    async def answer(request: Received) -> web.Response:
        if request.path.startswith("/discord"):
            return web.Response(status=404, text='{"message": "Unknown Webhook", "code": 10015}')
        return web.Response(status=200, text="ok")

    receiver.default = answer
    secret_path = "/discord/42/tokenTOKENtoken"
    failing = await channel(ctx, "discord", {"url": receiver.url_for(secret_path)})
    slack = await channel(ctx, "slack", {"url": receiver.url_for("/slack/ok")})
    disabled = await channel(ctx, "slack", {"url": receiver.url_for("/slack/off")}, disabled=True)
    with capture_logs() as logs:
        await notify(ctx, sample_notice(), [failing, "achan_missing", disabled, slack])
    paths = sorted(r.path for r in receiver.requests)
    assert paths == sorted([secret_path, "/slack/ok"])  # not the disabled one
    warnings = [entry for entry in logs if entry["log_level"] == "warning"]
    failed = next(entry for entry in warnings if entry["event"] == "alert channel failed")
    assert failed["channel"] == failing and failed["type"] == "discord"
    assert failed["status"] == 404
    assert "Discord answered 404" in failed["error"] and "Unknown Webhook" in failed["error"]
    assert any(e["event"] == "alert channel not found" for e in warnings)
    assert "tokenTOKENtoken" not in repr(logs) and "/discord/42" not in repr(logs)


async def test_a_long_reply_is_logged_as_a_short_excerpt_without_the_url(
    ctx: Context, receiver: Receiver
) -> None:
    """The reply echoes the channel's secret URL after a long preamble: the log keeps a bounded
    excerpt, and no part of the secret path even where the excerpt is cut."""
    secret_path = "/slack/T000/B000/" + "s3cr3t" * 20

    async def answer(request: Received) -> web.Response:
        return web.Response(status=400, text="x" * 150 + " " + receiver.url_for(secret_path))

    receiver.default = answer
    failing = await channel(ctx, "slack", {"url": receiver.url_for(secret_path)})
    with capture_logs() as logs:
        await notify(ctx, sample_notice(), [failing])
    [failed] = [entry for entry in logs if entry["event"] == "alert channel failed"]
    assert failed["error"].startswith("Slack answered 400: xxx")
    assert len(failed["error"]) < 200
    assert "s3cr3t" not in repr(logs) and "T000" not in repr(logs)


async def test_the_ssrf_guard_stands_between_a_channel_and_a_private_address(
    ctx: Context, receiver: Receiver
) -> None:
    """A channel saved while loopback was allowed is refused once it is not."""
    channel_id = await channel(ctx, "slack", {"url": receiver.url_for("/slack/x")})
    strict = Settings(request_timeout=5)
    poster = GuardedPoster(strict)
    try:
        guarded = replace(ctx, settings=strict, alert_poster=poster)
        outcome = await send_test(guarded, channel_id)
    finally:
        await poster.close()
    assert not outcome.ok
    assert outcome.error is not None and "destination refused" in outcome.error
    assert "127.0.0.1 is a loopback address" in outcome.error
    assert receiver.requests == []  # the refusal above happened before any connection


async def test_without_a_poster_chat_channels_report_it(ctx: Context, receiver: Receiver) -> None:
    channel_id = await channel(ctx, "slack", {"url": receiver.url_for("/slack/x")})
    outcome = await send_test(replace(ctx, alert_poster=None), channel_id)
    assert not outcome.ok and outcome.error == "this process has no HTTP sender for alert channels"


async def test_email_reaches_an_smtp_server_with_both_parts(ctx: Context) -> None:
    with smtp_server() as (mailbox, port):
        config = settings(
            smtp_host="127.0.0.1", smtp_port=port, smtp_from=SMTP_FROM, smtp_starttls=False
        )
        mailer = replace(ctx, settings=config)
        to = ["oncall@example.com", "team@example.org"]
        channel_id = await channel(mailer, "email", {"to": to})
        with capture_logs() as logs:
            await notify(mailer, sample_notice("resolved"), [channel_id])
        assert not [entry for entry in logs if entry["log_level"] == "warning"]
    [(envelope, message)] = mailbox.messages
    assert envelope.mail_from == "alerts@hookd.example"
    assert sorted(envelope.rcpt_tos) == sorted(to)
    assert message["Subject"] == "[hookd] resolved: Checkout endpoints failing"
    assert message["From"] == SMTP_FROM
    assert message["To"] == ", ".join(to)
    assert message["Message-ID"].endswith("@hookd.example>")
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    assert "Failure rate 62% ≥ 50%" in plain.get_content()
    assert "<h2" in html.get_content() and "Alert resolved" in html.get_content()
    assert mailbox.logins == []


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "tls"])
async def test_email_over_verified_tls_with_a_login(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, implicit: bool
) -> None:
    """STARTTLS (required) or TLS from the first byte, the server's certificate verified against
    the test CA (made the trusted store of this process), then AUTH with the password."""
    pki = make_pki()
    (tmp_path / "ca.pem").write_text(pki.ca)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    with smtp_server(server_tls(pki, tmp_path), implicit=implicit) as (mailbox, port):
        config = settings(
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_from=SMTP_FROM,
            smtp_tls=implicit,
            smtp_username=SMTP_USER,
            smtp_password=SMTP_PASSWORD,
        )
        mailer = replace(ctx, settings=config)
        channel_id = await channel(mailer, "email", {"to": ["oncall@example.com"]})
        outcome = await send_test(mailer, channel_id)
    assert outcome.ok, outcome.error
    assert mailbox.logins == [SMTP_USER]
    [(_, message)] = mailbox.messages
    assert message["Subject"] == "[hookd] test: test of channel email channel"


async def test_email_refuses_a_certificate_it_cannot_verify(ctx: Context, tmp_path: Path) -> None:
    with smtp_server(server_tls(make_pki(), tmp_path)) as (mailbox, port):
        config = settings(smtp_host="127.0.0.1", smtp_port=port, smtp_from=SMTP_FROM)
        mailer = replace(ctx, settings=config)
        channel_id = await channel(mailer, "email", {"to": ["oncall@example.com"]})
        outcome = await send_test(mailer, channel_id)
    assert not outcome.ok and outcome.error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in outcome.error
    assert mailbox.messages == [] and mailbox.logins == []


async def test_an_unreachable_smtp_server_is_logged_without_the_password(ctx: Context) -> None:
    with smtp_server() as (_, port):
        config = settings(
            smtp_host="127.0.0.1", smtp_port=port, smtp_from=SMTP_FROM, smtp_starttls=False
        )
        mailer = replace(ctx, settings=config)
        channel_id = await channel(mailer, "email", {"to": ["oncall@example.com"]})
    # The server stopped: nothing listens on its port any more.
    broken = replace(
        mailer,
        settings=settings(
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_from=SMTP_FROM,
            smtp_starttls=False,
            smtp_username=SMTP_USER,
            smtp_password=SMTP_PASSWORD,
        ),
    )
    with capture_logs() as logs:
        await notify(broken, sample_notice(), [channel_id])
    [failed] = [entry for entry in logs if entry["event"] == "alert channel failed"]
    assert failed["type"] == "email" and failed["error"].startswith("the SMTP server failed")
    assert SMTP_PASSWORD not in repr(logs)


async def test_email_with_starttls_required_refuses_a_server_without_it(ctx: Context) -> None:
    with smtp_server() as (mailbox, port):
        config = settings(smtp_host="127.0.0.1", smtp_port=port, smtp_from=SMTP_FROM)
        mailer = replace(ctx, settings=config)
        channel_id = await channel(mailer, "email", {"to": ["oncall@example.com"]})
        outcome = await send_test(mailer, channel_id)
    assert not outcome.ok and outcome.error is not None
    assert "STARTTLS" in outcome.error or "starttls" in outcome.error.lower()
    assert mailbox.messages == []  # refused before any message was sent


async def test_the_chat_body_is_compact_json(ctx: Context, receiver: Receiver) -> None:
    channel_id = await channel(ctx, "slack", {"url": receiver.url_for("/slack/x")})
    await notify(ctx, sample_notice(), [channel_id])
    [request] = await receiver.wait_for(1)
    assert orjson.loads(request.body) == json.loads(request.body)
    assert request.headers["User-Agent"].startswith("hookd/")


async def test_a_closed_poster_sends_nothing(receiver: Receiver) -> None:
    poster = GuardedPoster(settings())
    first = await poster.post_json(receiver.url_for("/before"), b"{}")
    assert first.succeeded
    await poster.close()
    after = await poster.post_json(receiver.url_for("/after"), b"{}")
    assert not after.succeeded and after.error == "not sent: hookd is stopping"
    assert [r.path for r in receiver.requests] == ["/before"]
