"""What each alert channel is sent about an issue: one builder per service. Pure.

Every builder takes the notice (anything with :class:`NoticeFacts`' attributes, in practice
``services.alerts.notice.AlertNotice``) and returns the message in the shape its service
documents, within its limits:

- Slack incoming webhooks: ``{"text", "blocks"}``, Block Kit ``section`` and ``context`` blocks
  with ``mrkdwn`` text (section text at most 3000 characters, at most 10 fields of 2000, context
  elements at most 10); user text has ``&``, ``<`` and ``>`` escaped, as Slack asks.
- Microsoft Teams (workflow or incoming webhook): ``{"type": "message", "attachments":
  [{"contentType": "application/vnd.microsoft.card.adaptive", "content": <AdaptiveCard 1.4>}]}``.
- Discord webhooks: ``{"content", "embeds": [{"title", "description", "color", "fields"}]}``
  within Discord's embed limits (title 256, description 4096, at most 25 fields of name 256 and
  value 1024, 6000 in all), with ``allowed_mentions`` empty so a rule's name never pings anyone.
- Email: a subject (``[hookd] opened: <rule name>``), a plain-text body and an HTML one.
- hookd's own webhook: ``{"type": "alert.issue.<event>", "timestamp", "data"}`` (Standard
  Webhooks' payload shape, camelCase fields as Svix's operational webhooks).

A test notice (``event`` "test", :func:`sample_notice`) is drawn in blue and sent as
``alert.channel.test``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from hookd.core.operational import iso

OPENED, ESCALATED, RESOLVED, TEST = "opened", "escalated", "resolved", "test"
EVENTS = (OPENED, ESCALATED, RESOLVED, TEST)
WEBHOOK_EVENT_TYPES = {
    OPENED: "alert.issue.opened",
    ESCALATED: "alert.issue.escalated",
    RESOLVED: "alert.issue.resolved",
    TEST: "alert.channel.test",
}

# Slack's Block Kit limits.
SLACK_TEXT_MAX = 3000  # a section's text, and what hookd puts in the top-level text
SLACK_FIELD_MAX = 2000
SLACK_FIELDS_MAX = 10
# Discord's embed limits.
DISCORD_CONTENT_MAX = 2000
DISCORD_TITLE_MAX = 256
DISCORD_DESCRIPTION_MAX = 4096
DISCORD_FIELD_NAME_MAX = 256
DISCORD_FIELD_VALUE_MAX = 1024
DISCORD_FIELDS_MAX = 25
DISCORD_FOOTER_MAX = 2048
DISCORD_EMBED_TOTAL_MAX = 6000
# Microsoft's Adaptive Card version: 1.4 renders in Teams on every client.
ADAPTIVE_CARD_VERSION = "1.4"
ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
ADAPTIVE_CARD_TYPE = "application/vnd.microsoft.card.adaptive"
SUBJECT_MAX = 200
# Affected ids listed by name; the rest are counted.
AFFECTED_SHOWN = 20


@dataclass(frozen=True, slots=True)
class Look:
    """How an event is drawn: its title, Slack emoji, Teams text colour and Discord colour."""

    title: str
    emoji: str
    teams_color: str
    color: int


LOOKS = {
    OPENED: Look("Alert opened", ":red_circle:", "Attention", 0xED4245),
    ESCALATED: Look("Alert escalated", ":large_orange_circle:", "Warning", 0xE67E22),
    RESOLVED: Look("Alert resolved", ":large_green_circle:", "Good", 0x57F287),
    TEST: Look("Test notice", ":large_blue_circle:", "Accent", 0x5865F2),
}


class NoticeFacts(Protocol):
    """What a builder reads of a notice (``services.alerts.notice.AlertNotice``'s fields)."""

    @property
    def event(self) -> str: ...
    @property
    def issue_id(self) -> str: ...
    @property
    def rule_id(self) -> str: ...
    @property
    def rule_name(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def scope(self) -> str: ...
    @property
    def affected(self) -> tuple[str, ...]: ...
    @property
    def opened_at(self) -> datetime: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def link(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class SampleNotice:
    """A notice for a channel's test send (``POST /api/v1/alert/channel/{id}/test``)."""

    event: str
    issue_id: str
    rule_id: str
    rule_name: str
    kind: str
    summary: str
    scope: str
    affected: tuple[str, ...]
    opened_at: datetime
    resolved_at: datetime | None
    link: str | None


def sample_notice(channel_name: str, now: datetime) -> SampleNotice:
    return SampleNotice(
        event=TEST,
        issue_id="test",
        rule_id="test",
        rule_name=f"test of channel {channel_name}",
        kind="test",
        summary="This is a test notice from hookd: this channel receives alerts.",
        scope="global",
        affected=(),
        opened_at=now,
        resolved_at=None,
        link=None,
    )


def look(notice: NoticeFacts) -> Look:
    return LOOKS.get(notice.event, LOOKS[OPENED])


def title(notice: NoticeFacts) -> str:
    return f"{look(notice).title}: {notice.rule_name}"


def is_url(link: str | None) -> bool:
    """Whether ``link`` is an absolute http(s) URL (a path alone cannot be a link in a chat)."""
    return bool(link) and str(link).startswith(("http://", "https://"))


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the cut shown by an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def affected_text(notice: NoticeFacts) -> str:
    shown = list(notice.affected[:AFFECTED_SHOWN])
    rest = len(notice.affected) - len(shown)
    if rest > 0:
        shown.append(f"and {rest} more")
    return ", ".join(shown)


def facts(notice: NoticeFacts) -> list[tuple[str, str]]:
    """The notice's details as (label, value) pairs, the same in every channel."""
    rows = [("Kind", notice.kind), ("Scope", notice.scope)]
    if notice.affected:
        rows.append(("Affected", affected_text(notice)))
    rows.append(("Opened", iso(notice.opened_at)))
    if notice.resolved_at is not None:
        rows.append(("Resolved", iso(notice.resolved_at)))
    if notice.link:
        rows.append(("Failing messages", notice.link))
    return rows


def footer(notice: NoticeFacts) -> str:
    return f"hookd · issue {notice.issue_id} · rule {notice.rule_id}"


# ---- Slack


def slack_escape(text: str) -> str:
    """Slack's three control characters in text (``&``, ``<``, ``>``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_time(moment: datetime) -> str:
    """Slack's date formatting (each reader's time zone), with the UTC time as fallback."""
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{iso(moment)}>"


def _slack_value(label: str, value: str, notice: NoticeFacts) -> str:
    if label == "Opened":
        return _slack_time(notice.opened_at)
    if label == "Resolved" and notice.resolved_at is not None:
        return _slack_time(notice.resolved_at)
    if label == "Failing messages" and is_url(value):
        return f"<{value}|open in hookd>"
    if label in ("Kind", "Failing messages"):
        return f"`{slack_escape(value)}`"
    return slack_escape(value)


def slack_message(notice: NoticeFacts) -> dict[str, Any]:
    """An incoming-webhook message: ``text`` (notifications and old clients) and ``blocks``."""
    headline = f"{look(notice).emoji} *{slack_escape(title(notice))}*"
    fields = [
        {
            "type": "mrkdwn",
            "text": clip(f"*{label}*\n{_slack_value(label, value, notice)}", SLACK_FIELD_MAX),
        }
        for label, value in facts(notice)
    ][:SLACK_FIELDS_MAX]
    return {
        "text": clip(slack_escape(f"{title(notice)}: {notice.summary}"), SLACK_TEXT_MAX),
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": clip(f"{headline}\n{slack_escape(notice.summary)}", SLACK_TEXT_MAX),
                },
                "fields": fields,
            },
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": clip(slack_escape(footer(notice)), SLACK_TEXT_MAX)}
                ],
            },
        ],
    }


# ---- Microsoft Teams


def teams_message(notice: NoticeFacts) -> dict[str, Any]:
    """An Adaptive Card in the message envelope that Teams workflows and webhooks take."""
    card: dict[str, Any] = {
        "$schema": ADAPTIVE_CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": ADAPTIVE_CARD_VERSION,
        "body": [
            {
                "type": "TextBlock",
                "text": title(notice),
                "size": "Medium",
                "weight": "Bolder",
                "color": look(notice).teams_color,
                "wrap": True,
            },
            {"type": "TextBlock", "text": notice.summary, "wrap": True},
            {
                "type": "FactSet",
                "facts": [{"title": label, "value": value} for label, value in facts(notice)],
            },
            {
                "type": "TextBlock",
                "text": footer(notice),
                "size": "Small",
                "isSubtle": True,
                "wrap": True,
            },
        ],
    }
    if notice.link and is_url(notice.link):
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open in hookd", "url": notice.link}]
    return {
        "type": "message",
        "attachments": [{"contentType": ADAPTIVE_CARD_TYPE, "contentUrl": None, "content": card}],
    }


# ---- Discord


def discord_message(notice: NoticeFacts) -> dict[str, Any]:
    """A webhook message with one embed, coloured by the event."""
    fields: list[dict[str, Any]] = [
        {
            "name": clip(label, DISCORD_FIELD_NAME_MAX),
            "value": clip(value, DISCORD_FIELD_VALUE_MAX),
            "inline": label not in ("Affected", "Failing messages"),
        }
        for label, value in facts(notice)
    ][:DISCORD_FIELDS_MAX]
    embed_title = clip(title(notice), DISCORD_TITLE_MAX)
    foot = clip(footer(notice), DISCORD_FOOTER_MAX)
    used = len(embed_title) + len(foot) + sum(len(f["name"]) + len(f["value"]) for f in fields)
    room = min(DISCORD_DESCRIPTION_MAX, DISCORD_EMBED_TOTAL_MAX - used)
    embed: dict[str, Any] = {
        "title": embed_title,
        "description": clip(notice.summary, room),
        "color": look(notice).color,
        "fields": fields,
        "timestamp": iso(notice.resolved_at or notice.opened_at),
        "footer": {"text": foot},
    }
    if notice.link and is_url(notice.link):
        embed["url"] = notice.link
    return {
        "content": clip(f"**{look(notice).title}**: {notice.rule_name}", DISCORD_CONTENT_MAX),
        "embeds": [embed],
        # A rule named "@everyone" stays text.
        "allowed_mentions": {"parse": []},
    }


# ---- Email


@dataclass(frozen=True, slots=True)
class EmailText:
    subject: str
    text: str
    html: str


def one_line(text: str) -> str:
    """``text`` without line breaks (a header value cannot hold one)."""
    return " ".join(text.split())


def email_message(notice: NoticeFacts) -> EmailText:
    """The subject and the two alternative bodies (plain text first, then HTML)."""
    subject = clip(one_line(f"[hookd] {notice.event}: {notice.rule_name}"), SUBJECT_MAX)
    rows = facts(notice)
    width = max(len(label) for label, _ in rows)
    lines = [title(notice), "", notice.summary, ""]
    lines += [f"{label + ':':<{width + 1}} {value}" for label, value in rows]
    lines += ["", footer(notice), ""]
    color = f"#{look(notice).color:06x}"
    cells = "".join(
        f'<tr><th align="left" style="padding:2px 12px 2px 0">{html.escape(label)}</th>'
        f"<td>{_html_value(label, value)}</td></tr>"
        for label, value in rows
    )
    body = (
        '<!DOCTYPE html>\n<html><body style="font-family:sans-serif">'
        f'<h2 style="color:{color};margin:0 0 8px">{html.escape(title(notice))}</h2>'
        f"<p>{html.escape(notice.summary)}</p>"
        f"<table>{cells}</table>"
        f'<p style="color:#6b7280;font-size:small">{html.escape(footer(notice))}</p>'
        "</body></html>\n"
    )
    return EmailText(subject, "\n".join(lines), body)


def _html_value(label: str, value: str) -> str:
    if label == "Failing messages" and is_url(value):
        return f'<a href="{html.escape(value)}">{html.escape(value)}</a>'
    return html.escape(value)


# ---- hookd's own webhook


def webhook_event_type(notice: NoticeFacts) -> str:
    return WEBHOOK_EVENT_TYPES.get(notice.event, f"alert.issue.{notice.event}")


def webhook_payload(notice: NoticeFacts, now: datetime) -> dict[str, Any]:
    """The message a webhook channel's endpoint receives."""
    return {
        "type": webhook_event_type(notice),
        "timestamp": iso(now),
        "data": {
            "event": notice.event,
            "issueId": notice.issue_id,
            "ruleId": notice.rule_id,
            "ruleName": notice.rule_name,
            "kind": notice.kind,
            "summary": notice.summary,
            "scope": notice.scope,
            "affected": list(notice.affected),
            "openedAt": iso(notice.opened_at),
            "resolvedAt": None if notice.resolved_at is None else iso(notice.resolved_at),
            "link": notice.link,
        },
    }
