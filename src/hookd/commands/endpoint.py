"""`hookd endpoint`: an application's endpoints (/api/v1/app/{app}/endpoint), their signing
secret, and recovering the messages that failed since a time."""

from __future__ import annotations

from typing import Annotated

import typer

from hookd.commands.app import (
    AppArgument,
    RateLimitOption,
    UidOption,
    metadata,
)
from hookd.commands.family import api, route, show
from hookd.commands.inputs import body, moment
from hookd.commands.progress import finished, follow
from hookd.commands.resource import REQUIRED, Field, Param, Resource, both, build, switch

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
UrlOption = Annotated[str, typer.Option(help="where messages are sent", show_default=False)]
NewUrlOption = Annotated[str | None, typer.Option(help="a new URL", show_default=False)]
DisabledFlag = Annotated[bool, typer.Option("--disabled", help="create it disabled")]
DisabledToggle = Annotated[
    bool | None,
    typer.Option("--disabled/--enabled", help="disable or enable it", show_default=False),
]
SecretOption = Annotated[
    str | None,
    typer.Option(help="its signing secret, whsec_... (default: a new one)", show_default=False),
]

ENDPOINT = Resource(
    name="endpoint",
    help="An application's endpoints: where its messages are delivered.",
    path="/api/v1/app/{}/endpoint",
    parents=(("app", AppArgument),),
    argument=("endpoint", EndpointArgument),
    columns=("id", "uid", "url", "disabled", "filterTypes", "channels", "createdAt"),
    fields=(
        Field("url", "url", create=Param(UrlOption, REQUIRED), update=Param(NewUrlOption)),
        both("uid", "uid", UidOption),
        both("description", "description", DescriptionOption),
        both("event_types", "filterTypes", EventTypesOption),
        both("channels", "channels", ChannelsOption),
        both("rate_limit", "rateLimit", RateLimitOption),
        switch("disabled", "disabled", DisabledFlag, DisabledToggle),
        Field("secret", "secret", create=Param(SecretOption)),
        metadata,
    ),
    helps={
        "list": "List an application's endpoints.",
        "get": "Show an endpoint.",
        "create": "Create an endpoint (any other field of the API's EndpointIn with --data).",
        "update": "Change the fields given of an endpoint (PATCH; --data for any other).",
        "delete": "Delete an endpoint.",
    },
    deleted="deleted endpoint {}",
)
family = build(ENDPOINT)
ONE = ENDPOINT.one


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
