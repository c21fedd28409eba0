"""Command families (`hookd <family> <verb>`): their options, client, output and errors.

A family is a ``Family`` (a ``typer.Typer``); its verbs are ``ApiCommand``s, which take the
connection and output options (``--server``, ``--token``, ``--profile``, ``--output``) wherever
they are written: ``hookd -o json app list`` and ``hookd app list -o json`` are the same. A verb
takes ``ctx: typer.Context`` and calls ``api(ctx)`` for the client (``commands.client``, made
once per command and closed after it) and ``show(ctx, answer, columns)`` to print. A
``CliError`` a verb raises (the client's errors included) is printed on stderr as
``hookd: <message>`` and becomes the exit status (``client.ExitCode``).

Flags print without typer's ``<bool>`` placeholder: every command class here gives them an empty
metavar (``plain_flags``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn
from urllib.parse import quote

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption

from hookd.commands.client import ApiClient, CliError
from hookd.commands.output import Column, Format, render

OPTIONS_KEY = "hookd.options"
CLIENT_KEY = "hookd.client"
OUTPUT_ENV = "HOOKD_OUTPUT"
CONNECTION_PANEL = "Connection and output"
API_PANEL = "API"  # `hookd --help`'s panel of the API's commands
SHARED = ("server", "token", "profile", "output")

ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        help="hookd's URL (env HOOKD_URL; else the profile's, else http://127.0.0.1:8071)",
        rich_help_panel=CONNECTION_PANEL,
        show_default=False,
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        help="the API token (env HOOKD_TOKEN; else the profile's, HOOKD_ADMIN_TOKEN, or the "
        "local server's .hookd/admin_token)",
        rich_help_panel=CONNECTION_PANEL,
        show_default=False,
    ),
]
ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        help="a profile `hookd login` saved (env HOOKD_PROFILE; default: default)",
        rich_help_panel=CONNECTION_PANEL,
        show_default=False,
    ),
]
OutputOption = Annotated[
    Format | None,
    typer.Option(
        "--output",
        "-o",
        help="table, json or yaml (env HOOKD_OUTPUT; default: table)",
        rich_help_panel=CONNECTION_PANEL,
        show_default=False,
        case_sensitive=False,
    ),
]


def plain_flags(params: Sequence[Any]) -> list[Any]:
    """The params, flags given an empty metavar: help shows ``--dry-run``, not ``<bool>``."""
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
    return list(params)


class HookdGroup(TyperGroup):
    """A group whose flags print plainly."""

    def get_params(self, ctx: typer.Context) -> list[Any]:  # type: ignore[override]
        return plain_flags(super().get_params(ctx))


class HookdCommand(TyperCommand):
    """A command whose flags print plainly."""

    def get_params(self, ctx: typer.Context) -> list[Any]:  # type: ignore[override]
        return plain_flags(super().get_params(ctx))


def _shared_params() -> list[Any]:
    """The connection and output options, as typer makes them from a signature."""
    probe = typer.Typer(add_completion=False)

    @probe.command()
    def shared(
        server: ServerOption = None,
        token: TokenOption = None,
        profile: ProfileOption = None,
        output: OutputOption = None,
    ) -> None:
        """Only its options are used."""

    command = typer.main.get_command(probe)
    return plain_flags(command.params)


class ApiCommand(HookdCommand):
    """A verb that talks to the API: the shared options, and ``CliError`` as its exit status."""

    _shared: list[Any] | None = None

    def get_params(self, ctx: typer.Context) -> list[Any]:  # type: ignore[override]
        params = super().get_params(ctx)
        if self._shared is None:
            self._shared = _shared_params()
        own = len(self.params)
        return [*params[:own], *self._shared, *params[own:]]

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        remember(ctx, **{name: ctx.params.pop(name, None) for name in SHARED})
        try:
            return super().invoke(ctx)
        except CliError as exc:
            fail(exc)


def fail(exc: CliError) -> NoReturn:
    """Print the error as ``hookd: ...`` on stderr and exit with its code."""
    typer.echo(f"hookd: {exc.message}", err=True)
    raise typer.Exit(int(exc.exit_code))


class HookdTyper(typer.Typer):
    """A typer app whose groups and commands print flags plainly; its commands are
    ``default_command``s unless they name a class."""

    default_command: type[TyperCommand] = HookdCommand

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", HookdGroup)
        # A traceback never shows local values: a token or a secret could be one.
        kwargs.setdefault("pretty_exceptions_show_locals", False)
        super().__init__(**kwargs)

    def command(  # type: ignore[override]
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return super().command(name, cls=cls or self.default_command, **kwargs)

    def add_typer(self, typer_instance: typer.Typer, **kwargs: Any) -> None:
        """Families added to the root ``hookd`` are listed in its help's API panel."""
        if isinstance(typer_instance, Family) and not isinstance(self, Family):
            kwargs.setdefault("rich_help_panel", API_PANEL)
        super().add_typer(typer_instance, **kwargs)


class Family(HookdTyper):
    """``hookd NAME <verb>``: a sub-app whose commands are ``ApiCommand``s by default."""

    default_command = ApiCommand

    def __init__(self, name: str, help: str, **kwargs: Any) -> None:
        kwargs.setdefault("no_args_is_help", True)
        super().__init__(name=name, help=help, **kwargs)


@dataclass
class Given:
    """The shared options a command line gave (None: not given)."""

    server: str | None = None
    token: str | None = None
    profile: str | None = None
    output: Format | None = None


def remember(ctx: typer.Context, **given: Any) -> None:
    """Keep the shared options given (the root's first, then the verb's over them)."""
    kept: Given = ctx.meta.setdefault(OPTIONS_KEY, Given())
    for name, value in given.items():
        if value is not None:
            setattr(kept, name, Format(str(value).lower()) if name == "output" else value)


def given(ctx: typer.Context) -> Given:
    found: Given = ctx.meta.setdefault(OPTIONS_KEY, Given())
    return found


def output_format(ctx: typer.Context, default: Format = Format.TABLE) -> Format:
    """``--output``, else ``HOOKD_OUTPUT``, else the command's default."""
    chosen = given(ctx).output
    if chosen is not None:
        return chosen
    env = os.environ.get(OUTPUT_ENV, "").strip().lower()
    if not env:
        return default
    try:
        return Format(env)
    except ValueError:
        raise CliError(f"{OUTPUT_ENV} must be table, json or yaml, not {env!r}") from None


def api(ctx: typer.Context, *, token_required: bool = True) -> ApiClient:
    """The API client of this command (one per command, closed when it ends)."""
    client: ApiClient | None = ctx.meta.get(CLIENT_KEY)
    if client is not None:
        return client
    from hookd.commands import config

    options = given(ctx)
    connection = config.resolve(server=options.server, token=options.token, profile=options.profile)
    token = config.require_token(connection) if token_required else connection.token
    client = ApiClient(connection.server, token)
    ctx.meta[CLIENT_KEY] = client
    ctx.call_on_close(client.close)
    return client


def show(
    ctx: typer.Context,
    value: Any,
    columns: Sequence[Column] = (),
    *,
    default: Format = Format.TABLE,
) -> None:
    """Print an API answer in the chosen format."""
    render(value, output_format(ctx, default), columns=columns)


def say(message: str) -> None:
    """A note for people, on stderr (stdout is the answer's)."""
    print(message, file=sys.stderr)


def route(template: str, *ids: str) -> str:
    """``route("/api/v1/app/{}", app)``: the ids percent-encoded into the path."""
    return template.format(*(quote(each, safe="") for each in ids))


PAGE_PANEL = "Paging"
LimitOption = Annotated[
    int, typer.Option(min=1, max=250, help="items per page", rich_help_panel=PAGE_PANEL)
]
IteratorOption = Annotated[
    str | None,
    typer.Option(
        help="the page after this iterator (a list prints the next one)",
        rich_help_panel=PAGE_PANEL,
        show_default=False,
    ),
]
DataOption = Annotated[
    str | None,
    typer.Option(
        "--data",
        "-d",
        help="the request body as a JSON object (text, @file or - for stdin); the other "
        "options given go over it",
        show_default=False,
    ),
]


def page(limit: int, iterator: str | None, **query: Any) -> dict[str, Any]:
    """A list's query: the page and the filters given."""
    return {"limit": limit, "iterator": iterator, **query}
