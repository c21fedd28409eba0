"""`hookd request`: what a source received (/ingest/api/v1/source/{source}/request), and
replaying it: one request, or every one matching a time range and filters, followed with a
progress bar."""

from __future__ import annotations

from typing import Annotated

import typer

from hookd.commands.client import CliError
from hookd.commands.family import Family, IteratorOption, LimitOption, api, page, route, say, show
from hookd.commands.inputs import body, moment
from hookd.commands.msg import AfterOption, BeforeOption
from hookd.commands.progress import finished, follow
from hookd.commands.source import SourceArgument

family = Family("request", help="Requests a source received: list, inspect, replay.")
COLUMNS = (
    "id",
    "receivedAt",
    "method",
    "path",
    "outcome",
    ("verification.code", "verification"),
    ("responseStatusCode", "answered"),
    "eventType",
    "msgId",
)
BASE = "/ingest/api/v1/source/{}/request"
ONE = BASE + "/{}"
OUTCOMES = ("accepted", "duplicate", "rejected", "handshake")
REPLAY_STATUSES = ("success", "pending", "fail", "sending")
# The start of time for --all: every request the source kept.
EVER = "1970-01-01T00:00:00Z"

OutcomeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--outcome",
        help="only accepted, duplicate, rejected or handshake ones (repeatable)",
        show_default=False,
    ),
]


def _outcomes(outcomes: list[str] | None) -> list[str] | None:
    for outcome in outcomes or ():
        if outcome not in OUTCOMES:
            raise CliError(f"--outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
    return outcomes or None


@family.command("list")
def list_requests(
    ctx: typer.Context,
    source: SourceArgument,
    outcomes: OutcomeOption = None,
    before: BeforeOption = None,
    after: AfterOption = None,
    limit: LimitOption = 50,
    iterator: IteratorOption = None,
) -> None:
    """List the requests a source received, newest first."""
    query = page(
        limit,
        iterator,
        outcome=_outcomes(outcomes),
        before=moment(before, "--before"),
        after=moment(after, "--after"),
    )
    show(ctx, api(ctx).get(route(BASE, source), **query), COLUMNS)


@family.command("get")
def get_request(
    ctx: typer.Context,
    source: SourceArgument,
    request: Annotated[str, typer.Argument(help="the request's id", show_default=False)],
) -> None:
    """Show a request: headers, body, verification, where it was forwarded."""
    show(ctx, api(ctx).get(route(ONE, source, request)))


@family.command("replay")
def replay(
    ctx: typer.Context,
    source: SourceArgument,
    request: Annotated[
        str | None,
        typer.Argument(
            help="one request's id (none: every one matching the filters)", show_default=False
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="every request received since: 2h, 7d or ISO 8601", show_default=False),
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="every request the source kept (no --since)")
    ] = False,
    until: Annotated[
        str | None, typer.Option(help="and before this time (default: now)", show_default=False)
    ] = None,
    outcomes: OutcomeOption = None,
    status: Annotated[
        str | None,
        typer.Option(
            help="only those whose forwarding is success, pending, fail or sending somewhere",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="rejected ones too (forwards unverified data)")
    ] = False,
    wait: Annotated[
        bool,
        typer.Option("--wait/--no-wait", help="follow a bulk replay's task with a progress bar"),
    ] = True,
) -> None:
    """Forward a request again, or (--since/--all) every matching one, at most 1000 a run."""
    client = api(ctx)
    if request is not None:
        if since or all_ or until or outcomes or status:
            raise CliError(
                "a request's id replays that one: --since, --all, --until, "
                "--outcome and --status are for replaying many"
            )
        path = route(ONE + "/replay", source, request)
        show(ctx, client.post(path, force=force or None))
        return
    if bool(since) == all_:
        raise CliError("name a request, or replay many with --since or --all")
    if status is not None and status not in REPLAY_STATUSES:
        raise CliError(f"--status must be one of {', '.join(REPLAY_STATUSES)}")
    fields = {
        "since": EVER if all_ else moment(since, "--since"),
        "until": moment(until, "--until"),
        "outcomes": _outcomes(outcomes),
        "status": status,
        "force": force or None,
    }
    task = client.post(route(BASE + "/replay", source), body(None, fields))
    if wait:
        task = follow(client, task)
    show(ctx, task)
    finished(task)
    data = task.get("data") or {}
    if data.get("done") is False:
        say(
            "more requests matched than one run replays (1000): replay narrower ranges "
            "(--since, --until)"
        )


def register(cli: typer.Typer) -> None:
    cli.add_typer(family)
