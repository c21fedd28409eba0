"""`hookd event-type`: the event types messages carry (/api/v1/event-type)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hookd.commands.inputs import json_object
from hookd.commands.resource import (
    REQUIRED,
    Field,
    Param,
    Resource,
    both,
    build,
    only_true,
    switch,
)

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
DeprecatedFlag = Annotated[bool, typer.Option("--deprecated", help="mark it deprecated")]
DeprecatedToggle = Annotated[
    bool | None, typer.Option("--deprecated/--not-deprecated", show_default=False)
]
ArchivedToggle = Annotated[bool | None, typer.Option("--archived/--unarchived", show_default=False)]
IncludeArchivedFlag = Annotated[bool, typer.Option("--include-archived", help="archived ones too")]


def _schemas(schema: str | None) -> dict[str, Any] | None:
    found = json_object(schema, "--schema")
    return None if found is None else {"1": found}


EVENT_TYPE = Resource(
    name="event-type",
    help="Event types: the kinds of messages (/api/v1/event-type).",
    path="/api/v1/event-type",
    argument=("name", NameArgument),
    columns=("name", "description", "groupName", "archived", "deprecated", "updatedAt"),
    fields=(
        Field("name", "name", create=Param(NameArgument, REQUIRED)),
        both("description", "description", DescriptionOption),
        both("schema", "schemas", SchemaOption, _schemas),
        both("group", "groupName", GroupOption),
        both("feature_flags", "featureFlags", FeatureFlagsOption),
        switch("deprecated", "deprecated", DeprecatedFlag, DeprecatedToggle),
        Field("archived", "archived", update=Param(ArchivedToggle)),
        Field(
            "include_archived",
            "include_archived",
            filter=Param(IncludeArchivedFlag, False, only_true),
        ),
    ),
    helps={
        "list": "List event types.",
        "get": "Show an event type.",
        "create": "Create an event type.",
        "update": "Change the fields given of an event type (PATCH).",
        "delete": "Archive an event type (update --unarchived brings it back).",
    },
    deleted="archived event type {}",
)
family = build(EVENT_TYPE)


def register(cli: typer.Typer) -> None:
    cli.add_typer(family)
