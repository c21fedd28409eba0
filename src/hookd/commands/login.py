"""`hookd login`: save a server and its token as a profile (commands.config)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from hookd.commands import config
from hookd.commands.client import DEFAULT_SERVER, ApiClient, AuthFailed
from hookd.commands.family import API_PANEL, ApiCommand, given, say


def login(
    ctx: typer.Context,
    verify: Annotated[
        bool,
        typer.Option("--verify/--no-verify", help="check the token with the server first"),
    ] = True,
) -> None:
    """Save --server and --token as a profile (--profile, default: default) in
    ~/.config/hookd/config.toml (0600); without --token, it is asked for."""
    options = given(ctx)
    name = options.profile or os.environ.get(config.PROFILE_ENV) or config.DEFAULT_PROFILE
    saved = config.load_profiles().get(name)
    server = (
        options.server
        or os.environ.get(config.SERVER_ENV)
        or (saved.server if saved else DEFAULT_SERVER)
    )
    token = options.token or os.environ.get(config.TOKEN_ENV)
    if not token:
        token = str(typer.prompt(f"Token for {server}", hide_input=True)).strip()
    if verify:
        with ApiClient(server, token) as client:
            try:
                client.get("/api/v1/app", limit=1)
            except AuthFailed as exc:
                if exc.status != 403:  # 403: a valid key that may not list applications
                    raise
    path = config.save_profile(name, config.Profile(server, token))
    say(f"saved profile {name!r} ({server}) in {path}")


def register(cli: typer.Typer) -> None:
    cli.command("login", cls=ApiCommand, rich_help_panel=API_PANEL)(login)
