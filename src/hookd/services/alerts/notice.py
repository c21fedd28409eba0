"""An alert issue's notice: what a channel is told when an issue opens, escalates or resolves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class AlertNotice:
    event: str  # "opened" | "escalated" | "resolved"
    issue_id: str
    rule_id: str
    rule_name: str
    kind: str  # the rule kind, e.g. "failure_rate"
    summary: str  # one human line: "Failure rate 62% ≥ 50% over 5 min (120 attempts)"
    scope: str  # "global" | "application" | "endpoint" | "source"
    affected: tuple[str, ...]  # endpoint or source ids
    opened_at: datetime
    resolved_at: datetime | None
    link: str | None  # path (or URL when HOOKD_PUBLIC_URL is set) to the failing messages
