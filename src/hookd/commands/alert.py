"""`hookd alert rule|issue|channel`: alert rules, the issues they open, and the channels that
hear of them (/api/v1/alert/...; docs/alerts.md)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer

from hookd.commands.app import name
from hookd.commands.family import Family, api, route, show
from hookd.commands.inputs import json_object
from hookd.commands.resource import (
    REQUIRED,
    Field,
    Param,
    Resource,
    both,
    build,
    false_when_given,
    switch,
)

RuleArgument = Annotated[str, typer.Argument(help="the rule's id", show_default=False)]
IssueArgument = Annotated[str, typer.Argument(help="the issue's id", show_default=False)]
ChannelArgument = Annotated[str, typer.Argument(help="the channel's id", show_default=False)]
KindOption = Annotated[
    str | None,
    typer.Option(
        help="failure_rate, oldest_due_age, duplicates, endpoint_disabled, breaker_open or "
        "transformation_failures",
        show_default=False,
    ),
]
ScopeOption = Annotated[
    str | None,
    typer.Option(help="global, application, endpoint or source", show_default=False),
]
ScopeIdOption = Annotated[
    str | None, typer.Option(help="the application, endpoint or source watched", show_default=False)
]
ThresholdOption = Annotated[
    float | None,
    typer.Option(help="failure_rate: percent; ages: seconds; counts: a count", show_default=False),
]
WindowOption = Annotated[
    int | None, typer.Option("--window", help="seconds looked back", show_default=False)
]
MinVolumeOption = Annotated[
    int | None, typer.Option(help="attempts needed before a rate counts", show_default=False)
]
ChannelsOption = Annotated[
    list[str] | None,
    typer.Option("--channel", help="a channel id to tell (repeatable)", show_default=False),
]
DescriptionOption = Annotated[str | None, typer.Option(help="what it is for", show_default=False)]
ConfigOption = Annotated[
    str | None,
    typer.Option(
        help='slack, teams, discord: {"url": ...}; email: {"to": [...]}; webhook: {"url": ...}'
        " (JSON, @file or -)",
        show_default=False,
    ),
]
DisabledFlag = Annotated[bool, typer.Option("--disabled", help="create it disabled")]
EnabledToggle = Annotated[bool | None, typer.Option("--enabled/--disabled", show_default=False)]
DisabledToggle = Annotated[bool | None, typer.Option("--disabled/--enabled", show_default=False)]
ChannelTypeOption = Annotated[
    str,
    typer.Option("--type", help="slack, teams, discord, email or webhook", show_default=False),
]
StatusFilter = Annotated[
    str | None, typer.Option(help="open, acknowledged or resolved", show_default=False)
]
RuleFilter = Annotated[str | None, typer.Option(help="one rule's issues", show_default=False)]

RULES = Resource(
    name="rule",
    help="Alert rules: what to watch and whom to tell (/api/v1/alert/rule).",
    path="/api/v1/alert/rule",
    argument=("rule", RuleArgument),
    columns=("id", "name", "kind", "scope", "scopeId", "threshold", "enabled", "channels"),
    fields=(
        name,
        Field("kind", "kind", create=Param(KindOption)),
        both("scope", "scope", ScopeOption),
        both("scope_id", "scopeId", ScopeIdOption),
        both("threshold", "threshold", ThresholdOption),
        both("window", "windowSeconds", WindowOption),
        both("min_volume", "minVolume", MinVolumeOption),
        both("channel", "channels", ChannelsOption),
        both("description", "description", DescriptionOption),
        Field("disabled", "enabled", create=Param(DisabledFlag, False, false_when_given)),
        Field("enabled", "enabled", update=Param(EnabledToggle)),
    ),
    helps={
        "list": "List alert rules.",
        "get": "Show an alert rule.",
        "create": "Create an alert rule (--kind is required, here or in --data).",
        "update": "Change the fields given of an alert rule (PATCH).",
        "delete": "Delete an alert rule.",
    },
    deleted="deleted alert rule {}",
)
ISSUES = Resource(
    name="issue",
    help="Issues the rules opened: list, acknowledge, resolve.",
    path="/api/v1/alert/issue",
    argument=("issue", IssueArgument),
    columns=("id", "status", "ruleName", "kind", "value", "threshold", "openedAt", "summary"),
    fields=(
        Field("status", "status", filter=Param(StatusFilter)),
        Field("rule", "rule_id", filter=Param(RuleFilter)),
    ),
    helps={"list": "List the issues alert rules opened, newest first.", "get": "Show an issue."},
)
CHANNELS = Resource(
    name="channel",
    help="Where alerts go: Slack, Teams, Discord, email, a webhook.",
    path="/api/v1/alert/channel",
    argument=("channel", ChannelArgument),
    columns=("id", "name", "type", "disabled", "createdAt"),
    fields=(
        name,
        Field("type_", "type", create=Param(ChannelTypeOption, REQUIRED)),
        both("config", "config", ConfigOption, partial(json_object, option="--config")),
        switch("disabled", "disabled", DisabledFlag, DisabledToggle),
    ),
    helps={
        "list": "List alert channels.",
        "get": "Show an alert channel (its URL and secret masked).",
        "create": "Create an alert channel.",
        "update": "Change the fields given of an alert channel (PATCH; only the config fields "
        "sent).",
        "delete": "Delete an alert channel (not one a rule names).",
    },
    deleted="deleted alert channel {}",
)

family = Family("alert", help="Alerts: rules, the issues they open, and notification channels.")
rules = build(RULES)
issues = build(ISSUES)
channels = build(CHANNELS)
family.add_typer(rules)
family.add_typer(issues)
family.add_typer(channels)
ISSUE = ISSUES.one
CHANNEL = CHANNELS.one


@issues.command("ack")
def acknowledge_issue(ctx: typer.Context, issue: IssueArgument) -> None:
    """Acknowledge an issue: someone is on it (no escalation notice follows)."""
    show(ctx, api(ctx).post(route(ISSUE + "/acknowledge", issue)))


@issues.command("resolve")
def resolve_issue(ctx: typer.Context, issue: IssueArgument) -> None:
    """Resolve an issue."""
    show(ctx, api(ctx).post(route(ISSUE + "/resolve", issue)))


@channels.command("test")
def test_channel(ctx: typer.Context, channel: ChannelArgument) -> None:
    """Send a test notice through the channel."""
    show(ctx, api(ctx).post(route(CHANNEL + "/test", channel)))


def register(cli: typer.Typer) -> None:
    cli.add_typer(family)
