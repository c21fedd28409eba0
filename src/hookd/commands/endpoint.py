"""`hookd endpoint`: an application's endpoints (/api/v1/app/{app}/endpoint), their signing
secret, and recovering the messages that failed since a time."""

from __future__ import annotations

from typing import Annotated

import typer

from hookd.commands.app import AppArgument, MetadataOption, RateLimitOption, UidOption
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
from hookd.commands.inputs import body, moment, pairs
from hookd.commands.progress import finished, follow

family = Family("endpoint", help="An application's endpoints: where its messages are delivered.")
COLUMNS = ("id", "uid", "url", "disabled", "filterTypes", "channels", "createdAt")
BASE = "/api/v1/app/{}/endpoint"
ONE = BASE + "/{}"

EndpointArgument = Annotated[
    str, typer.Argument(help="the endpoint's id or uid", show_default=False)
]
EventTypesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--event-type", help="deliver only these event types (repeatable)", show_default=False
    ),
]
ChannelsOption = Annotated[
    list[str] | None,
    typer.Option("--channel", help="deliver only these channels (repeatable)", show_default=False),
]
DescriptionOption = Annotated[str | None, typer.Option(help="a description", show_default=False)]
WaitOption = Annotated[
    bool,
    typer.Option(
        "--wait/--no-wait", help="follow the background task with a progress bar until it ends"
    ),
]


@family.command("list")
def list_endpoints(
    ctx: typer.Context, app: AppArgument, limit: LimitOption = 50, iterator: IteratorOption = None
) -> None:
    """List an application's endpoints."""
    show(ctx, api(ctx).get(route(BASE, app), **page(limit, iterator)), COLUMNS)


@family.command("get")
def get_endpoint(ctx: typer.Context, app: AppArgument, endpoint: EndpointArgument) -> None:
    """Show an endpoint."""
    show(ctx, api(ctx).get(route(ONE, app, endpoint)))


@family.command("create")
def create_endpoint(
    ctx: typer.Context,
    app: AppArgument,
    url: Annotated[str, typer.Option(help="where messages are sent", show_default=False)],
    uid: UidOption = None,
    description: DescriptionOption = None,
    event_types: EventTypesOption = None,
    channels: ChannelsOption = None,
    rate_limit: RateLimitOption = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="create it disabled")] = False,
    secret: Annotated[
        str | None,
        typer.Option(help="its signing secret, whsec_... (default: a new one)", show_default=False),
    ] = None,
    metadata: MetadataOption = None,
    data: DataOption = None,
) -> None:
    """Create an endpoint (any other field of the API's EndpointIn with --data)."""
    fields = {
        "url": url,
        "uid": uid,
        "description": description,
        "filterTypes": event_types,
        "channels": channels,
        "rateLimit": rate_limit,
        "disabled": disabled or None,
        "secret": secret,
        "metadata": pairs(metadata, "--metadata"),
    }
    show(ctx, api(ctx).post(route(BASE, app), body(data, fields)))


@family.command("update")
def update_endpoint(
    ctx: typer.Context,
    app: AppArgument,
    endpoint: EndpointArgument,
    url: Annotated[str | None, typer.Option(help="a new URL", show_default=False)] = None,
    uid: UidOption = None,
    description: DescriptionOption = None,
    event_types: EventTypesOption = None,
    channels: ChannelsOption = None,
    rate_limit: RateLimitOption = None,
    disabled: Annotated[
        bool | None,
        typer.Option("--disabled/--enabled", help="disable or enable it", show_default=False),
    ] = None,
    metadata: MetadataOption = None,
    data: DataOption = None,
) -> None:
    """Change the fields given of an endpoint (PATCH; --data for any other)."""
    fields = {
        "url": url,
        "uid": uid,
        "description": description,
        "filterTypes": event_types,
        "channels": channels,
        "rateLimit": rate_limit,
        "disabled": disabled,
        "metadata": pairs(metadata, "--metadata"),
    }
    show(ctx, api(ctx).patch(route(ONE, app, endpoint), body(data, fields)))


@family.command("delete")
def delete_endpoint(ctx: typer.Context, app: AppArgument, endpoint: EndpointArgument) -> None:
    """Delete an endpoint."""
    api(ctx).delete(route(ONE, app, endpoint))
    say(f"deleted endpoint {endpoint}")


@family.command("secret")
def endpoint_secret(
    ctx: typer.Context,
    app: AppArgument,
    endpoint: EndpointArgument,
    rotate: Annotated[
        bool, typer.Option("--rotate", help="replace it (the old one signs on for a while)")
    ] = False,
    key: Annotated[
        str | None,
        typer.Option(help="with --rotate: the new secret (default: a new one)", show_default=False),
    ] = None,
) -> None:
    """Show the endpoint's signing secret, or rotate it."""
    client = api(ctx)
    if rotate:
        rotated = client.post(
            route(ONE + "/secret/rotate", app, endpoint), body(None, {"key": key})
        )
        show(ctx, rotated or client.get(route(ONE + "/secret", app, endpoint)))
        return
    if key is not None:
        raise typer.BadParameter("--key goes with --rotate", param_hint="--key")
    show(ctx, client.get(route(ONE + "/secret", app, endpoint)))


@family.command("recover")
def recover(
    ctx: typer.Context,
    app: AppArgument,
    endpoint: EndpointArgument,
    since: Annotated[
        str,
        typer.Option(
            help="resend what failed since: 2h, 30m, 7d or an ISO 8601 time", show_default=False
        ),
    ],
    until: Annotated[
        str | None, typer.Option(help="and until (default: now)", show_default=False)
    ] = None,
    wait: WaitOption = True,
) -> None:
    """Resend every message that failed to reach the endpoint since a time."""
    client = api(ctx)
    task = client.post(
        route(ONE + "/recover", app, endpoint),
        body(None, {"since": moment(since, "--since"), "until": moment(until, "--until")}),
    )
    if wait:
        task = follow(client, task)
    show(ctx, task)
    finished(task)


def register(cli: typer.Typer) -> None:
    cli.add_typer(family)
