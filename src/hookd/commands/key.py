"""`hookd key`: API keys (/api/v1/api-key): an admin, read-only or one application's token."""

from __future__ import annotations

from typing import Annotated

import typer

from hookd.commands.client import CliError
from hookd.commands.family import (
    Family,
    IteratorOption,
    LimitOption,
    api,
    page,
    route,
    say,
    show,
)
from hookd.commands.inputs import body, moment

family = Family("key", help="API keys: tokens for people and programs (/api/v1/api-key).")
COLUMNS = ("id", "name", "scope", "appId", "createdAt", "lastUsedAt", "expiresAt")
SCOPES = ("admin", "read_only", "application")
KeyArgument = Annotated[str, typer.Argument(help="the key's id", show_default=False)]


@family.command("list")
def list_keys(ctx: typer.Context, limit: LimitOption = 50, iterator: IteratorOption = None) -> None:
    """List API keys (never their tokens)."""
    show(ctx, api(ctx).get("/api/v1/api-key", **page(limit, iterator)), COLUMNS)


@family.command("get")
def get_key(ctx: typer.Context, key: KeyArgument) -> None:
    """Show an API key (never its token)."""
    show(ctx, api(ctx).get(route("/api/v1/api-key/{}", key)))


@family.command("create")
def create_key(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="what it is for", show_default=False)],
    scope: Annotated[
        str, typer.Option(help="admin, read_only or application (with --app)")
    ] = "read_only",
    app: Annotated[
        str | None,
        typer.Option(help="the application an application key reaches", show_default=False),
    ] = None,
    expires: Annotated[
        str | None,
        typer.Option(help="when it stops working: 30d from now, or ISO 8601", show_default=False),
    ] = None,
) -> None:
    """Create an API key; its token is printed this once."""
    if scope not in SCOPES:
        raise CliError(f"--scope must be one of {', '.join(SCOPES)}")
    fields = {
        "name": name,
        "scope": scope,
        "appId": app,
        "expiresAt": moment(expires, "--expires", ahead=True),
    }
    show(ctx, api(ctx).post("/api/v1/api-key", body(None, fields)))
    say("the token is shown this once: keep it now")


@family.command("delete")
def delete_key(ctx: typer.Context, key: KeyArgument) -> None:
    """Revoke an API key: its token stops working at once."""
    api(ctx).delete(route("/api/v1/api-key/{}", key))
    say(f"revoked API key {key}")


def register(cli: typer.Typer) -> None:
    cli.add_typer(family)
