"""`hookd attempt`: delivery attempts, by message or by endpoint (/api/v1/app/{app}/attempt)."""

from __future__ import annotations

from typing import Annotated

import typer

from hookd.commands.app import AppArgument
from hookd.commands.client import CliError
from hookd.commands.family import Family, IteratorOption, LimitOption, api, page, route, show
from hookd.commands.inputs import moment
from hookd.commands.msg import AfterOption, BeforeOption, MessageArgument

family = Family("attempt", help="Delivery attempts: what each endpoint answered.")
COLUMNS = (
    "id",
    "msgId",
    "endpointId",
    ("attemptNumber", "n"),
    ("statusText", "status"),
    ("responseStatusCode", "code"),
    ("responseDurationMs", "ms"),
    "timestamp",
)
# A delivery's status, as the API filters on it (Svix's MessageStatus).
STATUSES = {"success": 0, "pending": 1, "fail": 2, "sending": 3, "canceled": 4}


@family.command("list")
def list_attempts(
    ctx: typer.Context,
    app: AppArgument,
    msg: Annotated[
        str | None, typer.Option(help="a message's attempts (id or eventId)", show_default=False)
    ] = None,
    endpoint: Annotated[
        str | None,
        typer.Option(help="an endpoint's attempts (with --msg: those to it)", show_default=False),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(help="only success, pending, fail, sending or canceled", show_default=False),
    ] = None,
    before: BeforeOption = None,
    after: AfterOption = None,
    limit: LimitOption = 50,
    iterator: IteratorOption = None,
) -> None:
    """List a message's or an endpoint's attempts, newest first."""
    if status is not None and status not in STATUSES:
        raise CliError(f"--status must be one of {', '.join(STATUSES)}")
    query = page(
        limit,
        iterator,
        status=STATUSES.get(status or ""),
        before=moment(before, "--before"),
        after=moment(after, "--after"),
    )
    if msg is not None:
        path = route("/api/v1/app/{}/attempt/msg/{}", app, msg)
        query["endpoint_id"] = endpoint
    elif endpoint is not None:
        path = route("/api/v1/app/{}/attempt/endpoint/{}", app, endpoint)
    else:
        raise CliError("name a message (--msg) or an endpoint (--endpoint)")
    show(ctx, api(ctx).get(path, **query), COLUMNS)


@family.command("get")
def get_attempt(
    ctx: typer.Context,
    app: AppArgument,
    message: MessageArgument,
    attempt: Annotated[str, typer.Argument(help="the attempt's id", show_default=False)],
) -> None:
    """Show an attempt: the endpoint's answer, its status and duration."""
    show(ctx, api(ctx).get(route("/api/v1/app/{}/msg/{}/attempt/{}", app, message, attempt)))


def register(cli: typer.Typer) -> None:
    cli.add_typer(family)
