"""`hookd event-type`: the event types messages carry (/api/v1/event-type)."""

from __future__ import annotations

from typing import Annotated, Any

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

family = Family("event-type", help="Event types: the kinds of messages (/api/v1/event-type).")
COLUMNS = ("name", "description", "groupName", "archived", "deprecated", "updatedAt")
ONE = "/api/v1/event-type/{}"

NameArgument = Annotated[
    str, typer.Argument(help="the event type's name, e.g. invoice.paid", show_default=False)
]
DescriptionOption = Annotated[str | None, typer.Option(help="what it means", show_default=False)]
SchemaOption = Annotated[
    str | None,
    typer.Option(
        help="the payload's JSON Schema, version 1 (JSON, @file or -)", show_default=False
    ),
]
GroupOption = Annotated[str | None, typer.Option("--group", help="its group", show_default=False)]
FeatureFlagsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--feature-flag", help="only for these feature flags (repeatable)", show_default=False
    ),
]


def _schemas(schema: str | None) -> dict[str, Any] | None:
    found = json_object(schema, "--schema")
    return None if found is None else {"1": found}


@family.command("list")
def list_event_types(
    ctx: typer.Context,
    limit: LimitOption = 50,
    iterator: IteratorOption = None,
    include_archived: Annotated[
        bool, typer.Option("--include-archived", help="archived ones too")
    ] = False,
) -> None:
    """List event types."""
    query = page(limit, iterator, include_archived=include_archived or None)
    show(ctx, api(ctx).get("/api/v1/event-type", **query), COLUMNS)


@family.command("get")
def get_event_type(ctx: typer.Context, name: NameArgument) -> None:
    """Show an event type."""
    show(ctx, api(ctx).get(route(ONE, name)))


@family.command("create")
def create_event_type(
    ctx: typer.Context,
    name: NameArgument,
    description: DescriptionOption = None,
    schema: SchemaOption = None,
    group: GroupOption = None,
    feature_flags: FeatureFlagsOption = None,
    deprecated: Annotated[bool, typer.Option("--deprecated", help="mark it deprecated")] = False,
    data: DataOption = None,
) -> None:
    """Create an event type."""
    fields = {
        "name": name,
        "description": description,
        "schemas": _schemas(schema),
        "groupName": group,
        "featureFlags": feature_flags,
        "deprecated": deprecated or None,
    }
    show(ctx, api(ctx).post("/api/v1/event-type", body(data, fields)))


@family.command("update")
def update_event_type(
    ctx: typer.Context,
    name: NameArgument,
    description: DescriptionOption = None,
    schema: SchemaOption = None,
    group: GroupOption = None,
    feature_flags: FeatureFlagsOption = None,
    deprecated: Annotated[
        bool | None, typer.Option("--deprecated/--not-deprecated", show_default=False)
    ] = None,
    archived: Annotated[
        bool | None, typer.Option("--archived/--unarchived", show_default=False)
    ] = None,
    data: DataOption = None,
) -> None:
    """Change the fields given of an event type (PATCH)."""
    fields = {
        "description": description,
        "schemas": _schemas(schema),
        "groupName": group,
        "featureFlags": feature_flags,
        "deprecated": deprecated,
        "archived": archived,
    }
    show(ctx, api(ctx).patch(route(ONE, name), body(data, fields)))


@family.command("delete")
def delete_event_type(ctx: typer.Context, name: NameArgument) -> None:
    """Archive an event type (update --unarchived brings it back)."""
    api(ctx).delete(route(ONE, name))
    say(f"archived event type {name}")


def register(cli: typer.Typer) -> None:
    cli.add_typer(family)
