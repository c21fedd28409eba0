"""Following a background task (``/api/v1/background-task/{id}``) with a progress bar.

Recover and a source's bulk replay answer a task (``qtask_...``); the command polls it until it
is no longer ``running``, with a rich progress display on stderr (its counts, e.g.
``messagesSent``, as they change), then returns the last state for the command to print. A task
that ``failed`` makes the command exit 5 after printing it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from hookd.commands.client import ApiClient, CliError, ExitCode
from hookd.commands.family import route
from hookd.commands.output import cell

RUNNING = "running"
FAILED = "failed"
POLL_SECONDS = 0.5


def counts(data: Mapping[str, Any]) -> str:
    """A task's progress fields, e.g. ``messagesSent=3``."""
    return " ".join(f"{key}={cell(value)}" for key, value in data.items() if key != "error")


def follow(
    client: ApiClient,
    task: Mapping[str, Any],
    *,
    poll: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll the task until it ends, showing its progress; return its last state.

    On a terminal a progress bar shows the task's counts as they change; otherwise (a pipe, a
    log file) one line says how it ended."""
    from rich.console import Console

    console = Console(stderr=True)
    state = dict(task)

    def poll_once() -> bool:
        nonlocal state
        if state.get("status") != RUNNING:
            return False
        sleep(poll)
        state = client.get(route("/api/v1/background-task/{}", str(state["id"])))
        return True

    if not console.is_terminal:
        while poll_once():
            pass
        console.file.write(f"{_line(state)}\n")
        return state
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(finished_text="done"),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TextColumn("{task.fields[counts]}", markup=False),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        shown = bar.add_task(_line(state), total=None, counts="")
        while True:
            running = state.get("status") == RUNNING
            bar.update(
                shown,
                description=_name(state),
                counts=counts(_data(state)),
                total=None if running else 1,
                completed=0 if running else 1,
            )
            if not poll_once():
                break
    return state


def _data(state: Mapping[str, Any]) -> Mapping[str, Any]:
    data = state.get("data")
    return data if isinstance(data, Mapping) else {}


def _name(state: Mapping[str, Any]) -> str:
    return f"{state.get('task', 'task')} {state.get('id', '')} {state.get('status', '')}"


def _line(state: Mapping[str, Any]) -> str:
    return f"{_name(state)} {counts(_data(state))}".rstrip()


def finished(state: Mapping[str, Any]) -> None:
    """Raise when the task failed (after the command printed it)."""
    if state.get("status") == FAILED:
        data = state.get("data")
        error = data.get("error") if isinstance(data, Mapping) else None
        raise CliError(
            f"task {state.get('id')} failed: {error or 'see the server log'}", ExitCode.SERVER
        )
