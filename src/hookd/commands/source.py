"""`hookd source`: sources that receive providers' webhooks (/ingest/api/v1/source)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer

from hookd.commands.app import UidOption, metadata, name
from hookd.commands.family import api, route, show
from hookd.commands.inputs import json_object
from hookd.commands.resource import REQUIRED, Field, Param, Resource, both, build

SourceArgument = Annotated[str, typer.Argument(help="the source's id or uid", show_default=False)]
TypeOption = Annotated[
    str,
    typer.Option(
        "--type",
        help="the provider: stripe, github, shopify, ... or generic-webhook",
        show_default=False,
    ),
]
NewTypeOption = Annotated[
    str | None, typer.Option("--type", help="another provider", show_default=False)
]
ConfigOption = Annotated[
    str | None,
    typer.Option(
        help="the provider's settings, e.g. its signing secret (JSON, @file or -)",
        show_default=False,
    ),
]
DedupOption = Annotated[
    int | None,
    typer.Option(
        "--dedup-window", min=0, help="seconds a provider id is remembered", show_default=False
    ),
]

SOURCE = Resource(
    name="source",
    help="Sources: where providers post webhooks to hookd (/ingest/api/v1/source).",
    path="/ingest/api/v1/source",
    argument=("source", SourceArgument),
    columns=("id", "uid", "name", "type", "provider", "ingestUrl", "createdAt"),
    fields=(
        name,
        Field("type_", "type", create=Param(TypeOption, REQUIRED)),
        both("uid", "uid", UidOption),
        Field("type_", "type", update=Param(NewTypeOption)),
        both("config", "config", ConfigOption, partial(json_object, option="--config")),
        both("dedup_window", "dedupWindowSeconds", DedupOption),
        metadata,
    ),
    helps={
        "list": "List sources.",
        "get": "Show a source (its secrets masked; `hookd source secret` shows them).",
        "create": "Create a source; its answer has the ingest URL to give the provider.",
        "update": "Change the fields given of a source (the others are kept, its secrets too).",
        "delete": "Delete a source with everything it received.",
    },
    deleted="deleted source {}",
    # What a PUT takes of what a GET shows (the rest is the server's).
    replace=("name", "uid", "type", "config", "metadata", "response", "dedupWindowSeconds"),
)
family = build(SOURCE)
ONE = SOURCE.one


@family.command("secret")
def source_secret(ctx: typer.Context, source: SourceArgument) -> None:
    """Show the source's secrets in clear (its signing secret, verify token)."""
    show(ctx, api(ctx).get(route(ONE + "/secret", source)))


@family.command("rotate-url")
def rotate_url(ctx: typer.Context, source: SourceArgument) -> None:
    """Give the source a new ingest URL; the old one stops working at once."""
    show(ctx, api(ctx).post(route(ONE + "/token/rotate", source)))


def register(cli: typer.Typer) -> None:
    cli.add_typer(family)
