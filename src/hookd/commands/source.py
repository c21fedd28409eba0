"""`hookd source`: sources that receive providers' webhooks (/ingest/api/v1/source)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hookd.commands.app import MetadataOption, UidOption
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
from hookd.commands.inputs import body, json_object, pairs

family = Family(
    "source", help="Sources: where providers post webhooks to hookd (/ingest/api/v1/source)."
)
COLUMNS = ("id", "uid", "name", "type", "provider", "ingestUrl", "createdAt")
BASE = "/ingest/api/v1/source"
ONE = BASE + "/{}"
# What a PUT takes of what a GET shows (the rest is the server's).
WRITABLE = ("name", "uid", "type", "config", "metadata", "response", "dedupWindowSeconds")

SourceArgument = Annotated[str, typer.Argument(help="the source's id or uid", show_default=False)]
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


@family.command("list")
def list_sources(
    ctx: typer.Context, limit: LimitOption = 50, iterator: IteratorOption = None
) -> None:
    """List sources."""
    show(ctx, api(ctx).get(BASE, **page(limit, iterator)), COLUMNS)


@family.command("get")
def get_source(ctx: typer.Context, source: SourceArgument) -> None:
    """Show a source (its secrets masked; `hookd source secret` shows them)."""
    show(ctx, api(ctx).get(route(ONE, source)))


@family.command("create")
def create_source(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="its name", show_default=False)],
    type_: Annotated[
        str,
        typer.Option(
            "--type",
            help="the provider: stripe, github, shopify, ... or generic-webhook",
            show_default=False,
        ),
    ],
    uid: UidOption = None,
    config: ConfigOption = None,
    dedup_window: DedupOption = None,
    metadata: MetadataOption = None,
    data: DataOption = None,
) -> None:
    """Create a source; its answer has the ingest URL to give the provider."""
    fields = {
        "name": name,
        "type": type_,
        "uid": uid,
        "config": json_object(config, "--config"),
        "dedupWindowSeconds": dedup_window,
        "metadata": pairs(metadata, "--metadata"),
    }
    show(ctx, api(ctx).post(BASE, body(data, fields)))


@family.command("update")
def update_source(
    ctx: typer.Context,
    source: SourceArgument,
    name: Annotated[str | None, typer.Option(help="a new name", show_default=False)] = None,
    uid: UidOption = None,
    type_: Annotated[
        str | None, typer.Option("--type", help="another provider", show_default=False)
    ] = None,
    config: ConfigOption = None,
    dedup_window: DedupOption = None,
    metadata: MetadataOption = None,
    data: DataOption = None,
) -> None:
    """Change the fields given of a source (the others are kept, its secrets too)."""
    client = api(ctx)
    current: dict[str, Any] = client.get(route(ONE, source))
    kept = {key: current[key] for key in WRITABLE if key in current}
    fields = {
        "name": name,
        "uid": uid,
        "type": type_,
        "config": json_object(config, "--config"),
        "dedupWindowSeconds": dedup_window,
        "metadata": pairs(metadata, "--metadata"),
    }
    changed = {**kept, **body(data, fields)}
    show(ctx, client.put(route(ONE, current["id"]), changed))


@family.command("delete")
def delete_source(ctx: typer.Context, source: SourceArgument) -> None:
    """Delete a source with everything it received."""
    api(ctx).delete(route(ONE, source))
    say(f"deleted source {source}")


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
