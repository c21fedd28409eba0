"""Telling alert channels about an issue: :func:`notify` (the evaluator's call) and
:func:`send_test` (``POST /api/v1/alert/channel/{id}/test``).

Each channel is sent to on its own: Slack, Teams and Discord get one JSON post through the
runtime's SSRF-guarded poster (``ctx.alert_poster``), email one message through the SMTP
server, and the webhook channels one message of the hidden alert application with a delivery to
each of their endpoints (``webhook_app``: signed, retried and recorded by the worker). A channel
that fails is logged (a warning with the channel's id and type, the status and the error, never
its URL) and does not stop the others. Chat posts are not retried: a notice that must arrive
goes to a webhook channel, whose deliveries are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import aiosmtplib
import orjson
import structlog

from hookd.core.alerts import messages
from hookd.core.alerts.channels import (
    DISCORD,
    EMAIL,
    POSTED,
    SERVICE_NAMES,
    SLACK,
    TEAMS,
    WEBHOOK,
    AlertChannel,
)
from hookd.core.alerts.messages import NoticeFacts
from hookd.services.alerts.email import EmailNotConfigured, send_email
from hookd.services.alerts.notice import AlertNotice
from hookd.services.alerts.webhook_app import enqueue_notice
from hookd.services.context import Context
from hookd.services.errors import NotFound
from hookd.store.alerts import channels as store

log = structlog.get_logger("hookd.alerts")

BUILDERS = {
    SLACK: messages.slack_message,
    TEAMS: messages.teams_message,
    DISCORD: messages.discord_message,
}
# What an error line keeps of a service's answer: a short excerpt, never the whole reply.
ERROR_EXCERPT = 160


@dataclass(frozen=True, slots=True)
class Outcome:
    """What sending to one channel did: ``ok``; the service's HTTP status (chat channels), the
    error (no secret in it), the message queued (webhook channels)."""

    ok: bool
    status_code: int | None = None
    error: str | None = None
    msg_id: str | None = None


async def notify(ctx: Context, notice: AlertNotice, channel_ids: Sequence[str]) -> None:
    """Send ``notice`` to each channel named (missing and disabled ones are skipped); a channel
    that fails is logged and does not stop the others."""
    wanted = list(dict.fromkeys(channel_ids))
    if not wanted:
        return
    async with ctx.db.read() as conn:
        found = await store.channels_by_id(conn, wanted)
    for channel_id in wanted:
        if channel_id not in found:
            log.warning("alert channel not found", channel=channel_id, issue=notice.issue_id)
    channels = [found[c] for c in wanted if c in found and not found[c].disabled]
    webhooks = [c for c in channels if c.type == WEBHOOK]
    sends = [_guarded(ctx, [c], notice) for c in channels if c.type != WEBHOOK]
    if webhooks:
        sends.append(_guarded(ctx, webhooks, notice))
    await asyncio.gather(*sends)


async def send_test(ctx: Context, channel_id: str) -> Outcome:
    """Send a test notice (``alert.channel.test``) to one channel, enabled or not."""
    async with ctx.db.read() as conn:
        channel = await store.get_channel(conn, channel_id)
    if channel is None:
        raise NotFound(f"alert channel {channel_id!r} not found")
    notice = messages.sample_notice(channel.name, ctx.clock())
    try:
        return await _send(ctx, [channel], notice)
    except Exception as exc:  # the caller is told what went wrong, in words
        return Outcome(False, error=_exception_text(exc, channel))


async def _guarded(ctx: Context, channels: list[AlertChannel], notice: NoticeFacts) -> None:
    try:
        outcome = await _send(ctx, channels, notice)
    except Exception as exc:  # one channel's failure must not stop the others
        outcome = Outcome(False, error=_exception_text(exc, channels[0]))
    if not outcome.ok:
        for channel in channels:
            log.warning(
                "alert channel failed",
                channel=channel.id,
                type=channel.type,
                issue=notice.issue_id,
                notice=notice.event,
                status=outcome.status_code,
                error=outcome.error,
            )


async def _send(ctx: Context, channels: list[AlertChannel], notice: NoticeFacts) -> Outcome:
    """Send to one channel (or to every webhook channel of ``channels`` with one message)."""
    channel = channels[0]
    if channel.type in POSTED:
        return await _post(ctx, channel, notice)
    if channel.type == EMAIL:
        now = ctx.clock()
        await send_email(ctx.settings, channel.config["to"], messages.email_message(notice), now)
        return Outcome(True)
    if channel.type == WEBHOOK:
        return await _enqueue(ctx, channels, notice)
    return Outcome(False, error=f"unknown channel type {channel.type!r}")


async def _post(ctx: Context, channel: AlertChannel, notice: NoticeFacts) -> Outcome:
    poster = ctx.alert_poster
    if poster is None:
        return Outcome(False, error="this process has no HTTP sender for alert channels")
    url = str(channel.config["url"])
    result = await poster.post_json(url, orjson.dumps(BUILDERS[channel.type](notice)))
    if result.succeeded:
        return Outcome(True, status_code=result.status_code)
    service = SERVICE_NAMES[channel.type]
    if result.error is not None:
        error = f"{service} could not be reached: {_excerpt(result.error, url)}"
    else:
        answer = _excerpt(result.body.decode("utf-8", "replace"), url)
        error = f"{service} answered {result.status_code}"
        if answer:
            error += f": {answer}"
    return Outcome(False, status_code=result.status_code or None, error=error)


async def _enqueue(ctx: Context, channels: list[AlertChannel], notice: NoticeFacts) -> Outcome:
    endpoint_ids = {c.endpoint_id for c in channels if c.endpoint_id is not None}
    if not endpoint_ids:
        return Outcome(False, error="the webhook channel's endpoint was deleted")
    async with ctx.db.write() as conn:
        message, count = await enqueue_notice(conn, notice, endpoint_ids, ctx)
    if count:
        ctx.wake_worker()
    if count < len(channels):
        return Outcome(
            False,
            error=f"queued for {count} of {len(channels)} webhook channels "
            "(an endpoint is disabled or was deleted)",
            msg_id=message.id if count else None,
        )
    return Outcome(True, msg_id=message.id)


def _exception_text(exc: Exception, channel: AlertChannel) -> str:
    if isinstance(exc, EmailNotConfigured):
        return str(exc)
    if isinstance(exc, aiosmtplib.SMTPException | OSError | TimeoutError):
        what = "the SMTP server" if channel.type == EMAIL else "the channel"
        detail = messages.one_line(str(exc)) or type(exc).__name__
        return f"{what} failed: {messages.clip(detail, ERROR_EXCERPT)}"
    return f"{type(exc).__name__} while sending"


def _excerpt(text: str, url: str) -> str:
    """A service's reply (or error) as an error line keeps it: on one line, without the
    channel's URL, cut to ``ERROR_EXCERPT`` characters (scrubbed first, so a cut cannot leave
    part of the URL's secret path behind)."""
    return messages.clip(_scrub(messages.one_line(text), url), ERROR_EXCERPT)


def _scrub(text: str, url: str) -> str:
    """``text`` without the channel's URL or its path (the path is the credential)."""
    path = url.split("//", 1)[-1].partition("/")[2]
    text = text.replace(url, "<url>")
    return text.replace(path, "<path>") if path else text
