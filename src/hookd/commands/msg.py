"""`hookd msg`: an application's messages (/api/v1/app/{app}/msg): send, list, show, resend."""

from __future__ import annotations

from typing import Annotated

import typer

from hookd.commands.app import AppArgument
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
from hookd.commands.inputs import body, json_object, moment

family = Family("msg", help="Messages: send them, list them, resend them.")
COLUMNS = ("id", "eventType", "eventId", "channels", "timestamp")
BASE = "/api/v1/app/{}/msg"
ONE = BASE + "/{}"

MessageArgument = Annotated[
    str, typer.Argument(help="the message's id or eventId", show_default=False)
]
BeforeOption = Annotated[
    str | None,
    typer.Option(help="only before this time (2h: two hours ago, or ISO 8601)", show_default=False),
]
AfterOption = Annotated[
    str | None,
    typer.Option(help="only after this time (2h: two hours ago, or ISO 8601)", show_default=False),
]


@family.command("send")
def send(
    ctx: typer.Context,
    app: AppArgument,
    event_type: Annotated[str, typer.Argument(help="e.g. invoice.paid", show_default=False)],
    payload: Annotated[
        str,
        typer.Option("--payload", "-p", help="a JSON object (text, @file or - for stdin)"),
    ] = "{}",
    event_id: Annotated[
        str | None,
        typer.Option(help="your id for it (a repeat is not sent twice)", show_default=False),
    ] = None,
    channels: Annotated[
        list[str] | None,
        typer.Option("--channel", help="its channels (repeatable)", show_default=False),
    ] = None,
    tags: Annotated[
        list[str] | None, typer.Option("--tag", help="its tags (repeatable)", show_default=False)
    ] = None,
    deliver_at: Annotated[
        str | None, typer.Option(help="deliver later, at this ISO 8601 time", show_default=False)
    ] = None,
    data: DataOption = None,
) -> None:
    """Send a message to the application's endpoints that want its event type."""
    fields = {
        "eventType": event_type,
        "payload": json_object(payload, "--payload"),
        "eventId": event_id,
        "channels": channels,
        "tags": tags,
        "deliverAt": deliver_at,
    }
    show(ctx, api(ctx).post(route(BASE, app), body(data, fields)))


@family.command("list")
def list_messages(
    ctx: typer.Context,
    app: AppArgument,
    event_types: Annotated[
        list[str] | None,
        typer.Option("--event-type", help="only these (repeatable)", show_default=False),
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help="only this channel", show_default=False)
    ] = None,
    tag: Annotated[str | None, typer.Option(help="only this tag", show_default=False)] = None,
    before: BeforeOption = None,
    after: AfterOption = None,
    limit: LimitOption = 50,
    iterator: IteratorOption = None,
) -> None:
    """List an application's messages, newest first."""
    query = page(
        limit,
        iterator,
        event_types=event_types,
        channel=channel,
        tag=tag,
        before=moment(before, "--before"),
        after=moment(after, "--after"),
    )
    show(ctx, api(ctx).get(route(BASE, app), **query), COLUMNS)


@family.command("get")
def get_message(ctx: typer.Context, app: AppArgument, message: MessageArgument) -> None:
    """Show a message with its payload."""
    show(ctx, api(ctx).get(route(ONE, app, message)))


@family.command("resend")
def resend(
    ctx: typer.Context,
    app: AppArgument,
    message: MessageArgument,
    endpoint: Annotated[str, typer.Argument(help="the endpoint's id or uid", show_default=False)],
) -> None:
    """Send a message to an endpoint again."""
    api(ctx).post(route(ONE + "/endpoint/{}/resend", app, message, endpoint))
    say(f"message {message} queued for endpoint {endpoint} again")


@family.command("expunge")
def expunge(ctx: typer.Context, app: AppArgument, message: MessageArgument) -> None:
    """Delete a message's payload (the message stays, without its content)."""
    api(ctx).delete(route(ONE + "/content", app, message))
    say(f"expunged the payload of message {message}")


def register(cli: typer.Typer) -> None:
    cli.add_typer(family)
