"""Request and response shapes of the alert rules and issues (hookd; not part of Svix's API)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from hookd.api.send.models import Bool, CamelModel
from hookd.core.alerts.rules import MAX_SECONDS, MAX_WINDOW_SECONDS, MIN_WINDOW_SECONDS

AlertKind = Literal[
    "failure_rate",
    "oldest_due_age",
    "duplicates",
    "endpoint_disabled",
    "breaker_open",
    "transformation_failures",
]
AlertScope = Literal["global", "application", "endpoint", "source"]
IssueStatus = Literal["open", "acknowledged", "resolved"]
ChannelId = Annotated[str, Field(min_length=1, max_length=64)]
Number = Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)]


class RuleSettings(CamelModel):
    """A rule's settings besides its name and kind (a field sent as null takes its default)."""

    description: str | None = Field(default=None, max_length=4096)
    enabled: Bool | None = None
    scope: AlertScope | None = Field(default=None, description="default global")
    scope_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="the application (id or uid), endpoint (id) or source (id or uid) watched",
    )
    threshold: Number | None = Field(
        default=None,
        description="failure_rate: percent; oldest_due_age, breaker_open: seconds; "
        "duplicates, transformation_failures: a count; endpoint_disabled: 1",
    )
    window_seconds: int | None = Field(
        default=None,
        ge=MIN_WINDOW_SECONDS,
        le=MAX_WINDOW_SECONDS,
        description="failure_rate, duplicates, transformation_failures: the period counted "
        "(whole minutes)",
    )
    min_volume: int | None = Field(
        default=None, ge=1, le=1_000_000, description="failure_rate: fewer attempts never fire"
    )
    escalate_threshold: Number | None = Field(
        default=None, description="escalate an issue whose value reaches this"
    )
    escalate_after_seconds: int | None = Field(
        default=None,
        ge=1,
        le=MAX_SECONDS,
        description="escalate an issue still open (not acknowledged) and firing this long",
    )
    quiet_period_seconds: int | None = Field(
        default=None,
        ge=0,
        le=MAX_SECONDS,
        description="how long the condition must stay clear before the issue resolves "
        "(default 300)",
    )
    channels: list[ChannelId] | None = Field(
        default=None, max_length=20, description="the alert channels notified"
    )


class AlertRuleIn(RuleSettings):
    name: str = Field(min_length=1, max_length=256)
    kind: AlertKind


class AlertRulePatch(RuleSettings):
    name: str | None = Field(default=None, min_length=1, max_length=256)
    kind: AlertKind | None = Field(
        default=None, description="a new kind starts its threshold and window over"
    )


class AlertRuleOut(CamelModel):
    id: str
    name: str
    description: str
    enabled: bool
    kind: AlertKind
    scope: AlertScope
    scope_id: str | None
    threshold: float
    window_seconds: int | None
    min_volume: int | None
    escalate_threshold: float | None
    escalate_after_seconds: int | None
    quiet_period_seconds: int
    channels: list[str]
    created_at: datetime
    updated_at: datetime


class AlertIssueOut(CamelModel):
    id: str
    rule_id: str
    rule_name: str
    kind: AlertKind
    scope: AlertScope
    status: IssueStatus
    escalated: bool
    value: float = Field(description="the last value observed while firing")
    peak_value: float
    threshold: float
    summary: str
    affected: list[str] = Field(description="the endpoint or source ids")
    app_id: str | None = Field(description="the affected endpoint's application")
    link: str | None = Field(description="the API list of the failing messages")
    opened_at: datetime
    acknowledged_at: datetime | None
    escalated_at: datetime | None
    cleared_at: datetime | None = Field(
        description="since when the condition is clear (the quiet period runs)"
    )
    resolved_at: datetime | None
    updated_at: datetime


class AlertIssuePatch(CamelModel):
    status: IssueStatus = Field(
        description="acknowledged (from open), open (from acknowledged), resolved"
    )
