"""`hookd alert rule|issue|channel`: alert rules, the issues they open, and the channels that
hear of them (/api/v1/alert/...; docs/alerts.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from hookd.commands.family import (
    DataOption,
    Family,
    IteratorOption,
    LimitOption,
    api,
    page,
    route,
    say,
    show,
)
from hookd.commands.inputs import body, json_object

family = Family("alert", help="Alerts: rules, the issues they open, and notification channels.")
rules = Family("rule", help="Alert rules: what to watch and whom to tell (/api/v1/alert/rule).")
issues = Family("issue", help="Issues the rules opened: list, acknowledge, resolve.")
channels = Family("channel", help="Where alerts go: Slack, Teams, Discord, email, a webhook.")
family.add_typer(rules)
family.add_typer(issues)
family.add_typer(channels)

RULE = "/api/v1/alert/rule/{}"
ISSUE = "/api/v1/alert/issue/{}"
CHANNEL = "/api/v1/alert/channel/{}"
RULE_COLUMNS = ("id", "name", "kind", "scope", "scopeId", "threshold", "enabled", "channels")
ISSUE_COLUMNS = ("id", "status", "ruleName", "kind", "value", "threshold", "openedAt", "summary")
CHANNEL_COLUMNS = ("id", "name", "type", "disabled", "createdAt")

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


@rules.command("list")
def list_rules(
    ctx: typer.Context, limit: LimitOption = 50, iterator: IteratorOption = None
) -> None:
    """List alert rules."""
    show(ctx, api(ctx).get("/api/v1/alert/rule", **page(limit, iterator)), RULE_COLUMNS)


@rules.command("get")
def get_rule(ctx: typer.Context, rule: RuleArgument) -> None:
    """Show an alert rule."""
    show(ctx, api(ctx).get(route(RULE, rule)))


@rules.command("create")
def create_rule(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="its name", show_default=False)],
    kind: KindOption = None,
    scope: ScopeOption = None,
    scope_id: ScopeIdOption = None,
    threshold: ThresholdOption = None,
    window: WindowOption = None,
    min_volume: MinVolumeOption = None,
    channel: ChannelsOption = None,
    description: DescriptionOption = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="create it disabled")] = False,
    data: DataOption = None,
) -> None:
    """Create an alert rule (--kind is required, here or in --data)."""
    fields = {
        "name": name,
        "kind": kind,
        "scope": scope,
        "scopeId": scope_id,
        "threshold": threshold,
        "windowSeconds": window,
        "minVolume": min_volume,
        "channels": channel,
        "description": description,
        "enabled": False if disabled else None,
    }
    show(ctx, api(ctx).post("/api/v1/alert/rule", body(data, fields)))


@rules.command("update")
def update_rule(
    ctx: typer.Context,
    rule: RuleArgument,
    name: Annotated[str | None, typer.Option(help="a new name", show_default=False)] = None,
    scope: ScopeOption = None,
    scope_id: ScopeIdOption = None,
    threshold: ThresholdOption = None,
    window: WindowOption = None,
    min_volume: MinVolumeOption = None,
    channel: ChannelsOption = None,
    description: DescriptionOption = None,
    enabled: Annotated[
        bool | None, typer.Option("--enabled/--disabled", show_default=False)
    ] = None,
    data: DataOption = None,
) -> None:
    """Change the fields given of an alert rule (PATCH)."""
    fields = {
        "name": name,
        "scope": scope,
        "scopeId": scope_id,
        "threshold": threshold,
        "windowSeconds": window,
        "minVolume": min_volume,
        "channels": channel,
        "description": description,
        "enabled": enabled,
    }
    show(ctx, api(ctx).patch(route(RULE, rule), body(data, fields)))


@rules.command("delete")
def delete_rule(ctx: typer.Context, rule: RuleArgument) -> None:
    """Delete an alert rule."""
    api(ctx).delete(route(RULE, rule))
    say(f"deleted alert rule {rule}")


@issues.command("list")
def list_issues(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option(help="open, acknowledged or resolved", show_default=False)
    ] = None,
    rule: Annotated[str | None, typer.Option(help="one rule's issues", show_default=False)] = None,
    limit: LimitOption = 50,
    iterator: IteratorOption = None,
) -> None:
    """List the issues alert rules opened, newest first."""
    query = page(limit, iterator, status=status, rule_id=rule)
    show(ctx, api(ctx).get("/api/v1/alert/issue", **query), ISSUE_COLUMNS)


@issues.command("get")
def get_issue(ctx: typer.Context, issue: IssueArgument) -> None:
    """Show an issue."""
    show(ctx, api(ctx).get(route(ISSUE, issue)))


@issues.command("ack")
def acknowledge_issue(ctx: typer.Context, issue: IssueArgument) -> None:
    """Acknowledge an issue: someone is on it (no escalation notice follows)."""
    show(ctx, api(ctx).post(route(ISSUE + "/acknowledge", issue)))


@issues.command("resolve")
def resolve_issue(ctx: typer.Context, issue: IssueArgument) -> None:
    """Resolve an issue."""
    show(ctx, api(ctx).post(route(ISSUE + "/resolve", issue)))


@channels.command("list")
def list_channels(
    ctx: typer.Context, limit: LimitOption = 50, iterator: IteratorOption = None
) -> None:
    """List alert channels."""
    show(ctx, api(ctx).get("/api/v1/alert/channel", **page(limit, iterator)), CHANNEL_COLUMNS)


@channels.command("get")
def get_channel(ctx: typer.Context, channel: ChannelArgument) -> None:
    """Show an alert channel (its URL and secret masked)."""
    show(ctx, api(ctx).get(route(CHANNEL, channel)))


@channels.command("create")
def create_channel(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="its name", show_default=False)],
    type_: Annotated[
        str,
        typer.Option("--type", help="slack, teams, discord, email or webhook", show_default=False),
    ],
    config: ConfigOption = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="create it disabled")] = False,
    data: DataOption = None,
) -> None:
    """Create an alert channel."""
    fields = {
        "name": name,
        "type": type_,
        "config": json_object(config, "--config"),
        "disabled": disabled or None,
    }
    show(ctx, api(ctx).post("/api/v1/alert/channel", body(data, fields)))


@channels.command("update")
def update_channel(
    ctx: typer.Context,
    channel: ChannelArgument,
    name: Annotated[str | None, typer.Option(help="a new name", show_default=False)] = None,
    config: ConfigOption = None,
    disabled: Annotated[
        bool | None, typer.Option("--disabled/--enabled", show_default=False)
    ] = None,
    data: DataOption = None,
) -> None:
    """Change the fields given of an alert channel (PATCH; only the config fields sent)."""
    fields = {"name": name, "config": json_object(config, "--config"), "disabled": disabled}
    show(ctx, api(ctx).patch(route(CHANNEL, channel), body(data, fields)))


@channels.command("delete")
def delete_channel(ctx: typer.Context, channel: ChannelArgument) -> None:
    """Delete an alert channel (not one a rule names)."""
    api(ctx).delete(route(CHANNEL, channel))
    say(f"deleted alert channel {channel}")


@channels.command("test")
def test_channel(ctx: typer.Context, channel: ChannelArgument) -> None:
    """Send a test notice through the channel."""
    show(ctx, api(ctx).post(route(CHANNEL + "/test", channel)))


def register(cli: typer.Typer) -> None:
    cli.add_typer(family)
