"""`hookd task`: background tasks (/api/v1/background-task): recover, bulk replay, expunge."""

from __future__ import annotations

from typing import Annotated

import typer

from hookd.commands.family import Family, IteratorOption, LimitOption, api, page, route, show
from hookd.commands.progress import finished, follow

family = Family("task", help="Background tasks: recover, bulk replays, purges (qtask_...).")
COLUMNS = ("id", "task", "status", "updatedAt", "data")


@family.command("list")
def list_tasks(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option(help="running, finished or failed", show_default=False)
    ] = None,
    task: Annotated[
        str | None, typer.Option(help="one kind, e.g. endpoint.recover", show_default=False)
    ] = None,
    limit: LimitOption = 50,
    iterator: IteratorOption = None,
) -> None:
    """List background tasks, newest first."""
    query = page(limit, iterator, status=status, task=task)
    show(ctx, api(ctx).get("/api/v1/background-task", **query), COLUMNS)


@family.command("get")
def get_task(
    ctx: typer.Context,
    task: Annotated[str, typer.Argument(help="the task's id (qtask_...)", show_default=False)],
    wait: Annotated[
        bool, typer.Option("--wait", help="follow it with a progress bar until it ends")
    ] = False,
) -> None:
    """Show a background task."""
    client = api(ctx)
    state = client.get(route("/api/v1/background-task/{}", task))
    if wait:
        state = follow(client, state)
    show(ctx, state)
    if wait:
        finished(state)


def register(cli: typer.Typer) -> None:
    cli.add_typer(family)
