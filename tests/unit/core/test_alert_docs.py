"""docs/alerts.md's message samples are what hookd's builders make for the same notice."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from hookd.core.alerts import messages as m
from hookd.services.alerts.notice import AlertNotice
from tests.support import REPO

SAMPLE = re.compile(r"<!-- alert sample: (\w+) -->\n```\w*\n(.*?)\n```", re.DOTALL)
NOTICE = AlertNotice(
    event="opened",
    issue_id="iss_2Ab7Kq",
    rule_id="alrt_9XyQ3z",
    rule_name="Checkout endpoints failing",
    kind="failure_rate",
    summary="Failure rate 62% ≥ 50% over 5 min (120 attempts)",
    scope="application",
    affected=("ep_2Zt8Checkout",),
    opened_at=datetime(2026, 12, 8, 12, 0, tzinfo=UTC),
    resolved_at=None,
    link="https://hookd.example.com/api/v1/app/app_2Zt8/attempt/endpoint/ep_2Zt8Checkout?status=2",
)
SENT_AT = datetime(2026, 12, 8, 12, 0, 5, tzinfo=UTC)


def samples() -> dict[str, str]:
    text = (REPO / "docs" / "alerts.md").read_text()
    return dict(SAMPLE.findall(text))


def built(kind: str) -> Any:
    if kind == "slack":
        return m.slack_message(NOTICE)
    if kind == "teams":
        return m.teams_message(NOTICE)
    if kind == "discord":
        return m.discord_message(NOTICE)
    if kind == "webhook":
        return m.webhook_payload(NOTICE, SENT_AT)
    return m.email_message(NOTICE).text


@pytest.mark.parametrize("kind", ["slack", "teams", "discord", "email", "webhook"])
def test_the_documented_sample_is_what_hookd_sends(kind: str) -> None:
    sample = samples()[kind]
    expected = built(kind)
    if isinstance(expected, str):
        assert sample == expected.rstrip("\n")
    else:
        assert json.loads(sample) == expected
