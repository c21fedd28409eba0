"""`hookd app`: applications, the customers messages are sent to (/api/v1/app)."""

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
from hookd.commands.inputs import body, pairs

family = Family("app", help="Applications: who messages are sent to (/api/v1/app).")
COLUMNS = ("id", "uid", "name", "rateLimit", "createdAt")

AppArgument = Annotated[str, typer.Argument(help="the application's id or uid", show_default=False)]
UidOption = Annotated[
    str | None, typer.Option(help="your own id for it (letters, digits, - _ .)", show_default=False)
]
RateLimitOption = Annotated[
    int | None, typer.Option(min=1, help="messages a second at most", show_default=False)
]
MetadataOption = Annotated[
    list[str] | None, typer.Option(help="key=value, repeatable", show_default=False)
]


@family.command("list")
def list_apps(ctx: typer.Context, limit: LimitOption = 50, iterator: IteratorOption = None) -> None:
    """List applications."""
    show(ctx, api(ctx).get("/api/v1/app", **page(limit, iterator)), COLUMNS)


@family.command("get")
def get_app(ctx: typer.Context, app: AppArgument) -> None:
    """Show an application."""
    show(ctx, api(ctx).get(route("/api/v1/app/{}", app)))


@family.command("create")
def create_app(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="its name", show_default=False)],
    uid: UidOption = None,
    rate_limit: RateLimitOption = None,
    metadata: MetadataOption = None,
    get_if_exists: Annotated[
        bool,
        typer.Option(
            "--get-if-exists", help="answer the application with this uid if there is one"
        ),
    ] = False,
    data: DataOption = None,
) -> None:
    """Create an application."""
    fields = {
        "name": name,
        "uid": uid,
        "rateLimit": rate_limit,
        "metadata": pairs(metadata, "--metadata"),
    }
    created = api(ctx).post("/api/v1/app", body(data, fields), get_if_exists=get_if_exists or None)
    show(ctx, created)


@family.command("update")
def update_app(
    ctx: typer.Context,
    app: AppArgument,
    name: Annotated[str | None, typer.Option(help="a new name", show_default=False)] = None,
    uid: UidOption = None,
    rate_limit: RateLimitOption = None,
    metadata: MetadataOption = None,
    data: DataOption = None,
) -> None:
    """Change the fields given of an application (PATCH)."""
    fields = {
        "name": name,
        "uid": uid,
        "rateLimit": rate_limit,
        "metadata": pairs(metadata, "--metadata"),
    }
    show(ctx, api(ctx).patch(route("/api/v1/app/{}", app), body(data, fields)))


@family.command("delete")
def delete_app(ctx: typer.Context, app: AppArgument) -> None:
    """Delete an application with its endpoints and messages."""
    api(ctx).delete(route("/api/v1/app/{}", app))
    say(f"deleted application {app}")


def register(cli: typer.Typer) -> None:
    cli.add_typer(family)
