"""The ``hookd`` command: wires settings to the API and the engine, and holds the API's
commands (``hookd.commands``: ``hookd app list``, ``hookd msg send``, ...).

`hookd --help` and the API commands import little: the server's modules (the settings, the
store, uvicorn, structlog) are imported inside the commands that run a server or a database.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hookd import __version__
from hookd.commands import register
from hookd.commands.family import (
    API_PANEL,
    ApiCommand,
    HookdTyper,
    OutputOption,
    ProfileOption,
    ServerOption,
    TokenOption,
    api,
    remember,
    show,
)
from hookd.commands.output import Format
from hookd.commands.serve_options import SettingsCommand, given_settings
from hookd.commands.serve_options import export as export_settings

if TYPE_CHECKING:
    from hookd.config import Settings
    from hookd.store.db import Database

cli = HookdTyper(
    name="hookd", help="Self-hosted webhooks: send, receive and fulfill.", no_args_is_help=True
)
SERVER_PANEL = "Server"


def _log() -> Any:
    import structlog

    return structlog.get_logger("hookd")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@cli.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    server: ServerOption = None,
    token: TokenOption = None,
    profile: ProfileOption = None,
    output: OutputOption = None,
) -> None:
    """Self-hosted webhooks: send, receive and fulfill.

    The API's commands (app, endpoint, msg, ...) print tables, or JSON or YAML with
    -o json|yaml; they exit 0 on success, 2 on invalid input, 3 when not found, 4 on an
    authentication error, 5 on a server error or no answer (docs/cli.md).
    """
    remember(ctx, server=server, token=token, profile=profile, output=output)


def configure_logging(level: str, *, sql: bool = False, log_format: str = "auto") -> None:
    """The one log stream (``hookd.observability.logs``), imported when a command needs it."""
    from hookd.observability.logs import configure_logging as configure

    configure(level, sql=sql, log_format=log_format)  # type: ignore[arg-type]  # a Settings value


def admin_token(settings: Settings) -> str:
    """The configured token, else the one stored in the data directory, else a new one."""
    from hookd.config import ADMIN_TOKEN_FILE
    from hookd.store.sqlite import files as sqlite_files

    if settings.admin_token:
        return settings.admin_token
    path = settings.data_dir / ADMIN_TOKEN_FILE
    if path.exists():
        return path.read_text().strip()
    token = "hk_" + secrets.token_urlsafe(32)
    path.parent.mkdir(mode=sqlite_files.DIRECTORY_MODE, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    if sys.stderr.isatty():  # someone is watching: shown once
        shown = f"hookd: generated an admin token (stored in {path}):\n\n    {token}\n"
        typer.echo(shown, err=True)
    else:  # stderr is the log stream (a container, a file): never a secret there
        _log().info("admin token generated", path=str(path))
    return token


def warn_loose_permissions(db: Database, settings: Settings) -> None:
    """Warn about a data directory or database files other users may read (see
    ``store.sqlite.files``: hookd creates them 0700 and 0600)."""
    if db.sqlite_path is None:
        return
    from hookd.config import ADMIN_TOKEN_FILE
    from hookd.main_key import KEY_FILE
    from hookd.store.sqlite import files as sqlite_files

    others = (settings.data_dir / ADMIN_TOKEN_FILE, settings.data_dir / KEY_FILE)
    for path, mode in sqlite_files.loose_permissions(db.sqlite_path, *others):
        wanted = sqlite_files.DIRECTORY_MODE if path.is_dir() else sqlite_files.FILE_MODE
        _log().warning(
            "data file open to other users", path=str(path), mode=mode, expected=f"{wanted:04o}"
        )


async def prepare_schema(db: Database) -> None:
    """Migrate an embedded SQLite file; refuse to start on an out-of-date PostgreSQL schema."""
    from hookd.store import migrate

    try:
        if db.is_sqlite:
            before, after = await migrate.upgrade(db)
            if before != after:
                _log().info("database schema migrated", before=before, after=after)
        else:
            await migrate.require_current(db)
    except migrate.SchemaOutOfDate as exc:
        typer.echo(f"hookd: {exc}", err=True)
        raise typer.Exit(3) from exc
    finally:
        await db.close()


async def prepare_secrets(db: Database, settings: Settings) -> None:
    """Install the main key and check it against the database; exit 4 when it does not fit."""
    from hookd.main_key import MainKeyError, open_secrets
    from hookd.store import sealing

    try:
        sealed = await open_secrets(db, settings)
    except MainKeyError as exc:
        typer.echo(f"hookd: {exc}", err=True)
        raise typer.Exit(4) from exc
    finally:
        await db.close()
    if sealed is not None and sealed.plain:
        _log().info("secrets sealed with the main key", values=sealed.plain)
    keyring = sealing.current()
    _log().debug("main key checked", key_id=keyring.primary_id, keys=len(keyring.key_ids))


def primary_id() -> str:
    from hookd.store import sealing

    return sealing.current().primary_id


@cli.command(name="rotate-main-key", rich_help_panel=SERVER_PANEL)
def rotate_main_key(
    database_url: Annotated[
        str | None, typer.Option(help="sqlite:///path or postgresql://... [HOOKD_DATABASE_URL]")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="rows per transaction")] = 500,
) -> None:
    """Seal every stored secret again with the first key of HOOKD_MAIN_KEY (docs/production.md:
    run it while hookd runs with HOOKD_MAIN_KEY=new,old, then drop the old key)."""
    import uvloop

    from hookd.config import Settings
    from hookd.store import sealed_columns
    from hookd.store.db import Database

    given = {"database_url": database_url} if database_url else {}
    settings = Settings(**given)  # type: ignore[arg-type]
    configure_logging(settings.log_level, sql=settings.log_sql, log_format=settings.log_format)
    db = Database(settings.effective_database_url)
    uvloop.run(prepare_secrets(db, settings))

    async def run() -> tuple[sealed_columns.ResealCounts, dict[str, int]]:
        try:
            counts = await sealed_columns.reseal(db, batch_size=batch_size)
            return counts, dict(await sealed_columns.key_ids_in_use(db))
        finally:
            await db.close()

    counts, in_use = uvloop.run(run())
    typer.echo(f"hookd: {sum(counts.resealed.values())} secrets sealed again", err=True)
    for purpose, n in sorted(counts.resealed.items()):
        typer.echo(f"  {purpose:<28} {n:>8}", err=True)
    typer.echo(f"hookd: values by main key id: {in_use or 'none'}", err=True)
    typer.echo(f"hookd: the first key of HOOKD_MAIN_KEY is {primary_id()}", err=True)


@cli.command(name="migrate", rich_help_panel=SERVER_PANEL)
def migrate_command(
    database_url: Annotated[
        str | None, typer.Option(help="sqlite:///path or postgresql://... [HOOKD_DATABASE_URL]")
    ] = None,
) -> None:
    """Bring the database schema up to date (run before starting a new version on PostgreSQL)."""
    import uvloop

    from hookd.config import Settings
    from hookd.store import migrate
    from hookd.store.db import Database

    given = {"database_url": database_url} if database_url else {}
    settings = Settings(**given)  # type: ignore[arg-type]
    configure_logging(settings.log_level, log_format=settings.log_format)

    async def run() -> tuple[str | None, str]:
        db = Database(settings.effective_database_url, busy_timeout=settings.sqlite_busy_timeout)
        try:
            return await migrate.upgrade(db)
        finally:
            await db.close()

    before, after = uvloop.run(run())
    if before == after:
        typer.echo(f"hookd: schema already at revision {after}")
    else:
        typer.echo(f"hookd: schema migrated from {before or 'empty'} to {after}")


@cli.command(
    cls=SettingsCommand,
    rich_help_panel=SERVER_PANEL,
    epilog="Every setting is read from its HOOKD_* environment variable too; a flag wins.",
)
def serve(ctx: typer.Context) -> None:
    """Run the API and the delivery worker (in one process by default, or one role)."""
    import uvicorn
    import uvloop
    from pydantic import ValidationError

    from hookd import open_files
    from hookd.config import Settings
    from hookd.store.db import Database

    given = given_settings(ctx)
    try:
        settings = Settings(**given)
    except ValidationError as exc:
        typer.echo(f"hookd: invalid settings:\n{exc}", err=True)
        raise typer.Exit(2) from exc
    export_settings(given)  # the delivery processes read theirs from the environment
    configure_logging(settings.log_level, sql=settings.log_sql, log_format=settings.log_format)
    before, after = open_files.raise_soft_limit()  # one file per connection
    if after != before:
        _log().info("open files limit raised", soft_before=before, soft=after)
    database = Database(settings.effective_database_url, busy_timeout=settings.sqlite_busy_timeout)
    uvloop.run(prepare_schema(database))
    warn_loose_permissions(database, settings)
    uvloop.run(prepare_secrets(database, settings))
    # Imported late: keeps `hookd --help` fast. The one place the running system is built.
    from hookd.engine.runtime import Runtime, run_worker_only
    from hookd.observability import build_telemetry, build_tracing

    runtime = Runtime(
        settings,
        database,
        telemetry=build_telemetry(settings),
        tracing=build_tracing(settings),
    )
    if settings.role == "worker":
        from hookd.observability.metrics import running as metrics_running

        async def run_worker() -> None:
            async with metrics_running(runtime):  # on HOOKD_METRICS_ADDRESS, if set
                await run_worker_only(runtime)

        uvloop.run(run_worker())
        return
    from hookd.api.app import create_server
    from hookd.api.auth import ApiKeys
    from hookd.api.connections import ConnectionLimits, guarded_http
    from hookd.api.health.routes import Readiness

    # Only the token's digest is kept (api.auth.ApiKeys).
    api_keys = ApiKeys.admin(admin_token(settings))
    readiness = Readiness(database)  # the app checks the database, the protocol answers probes
    app = create_server(runtime, api_keys, run_worker=settings.role == "all", readiness=readiness)
    limits = ConnectionLimits(
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        per_address=settings.max_connections_per_address,
        trusted=settings.proxy_networks,
    )
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        # httptools with head and body deadlines, answering health probes (api/connections)
        http=guarded_http(limits, readiness),
        log_level=settings.log_level.lower(),
        # uvicorn's records reach the root logger's one format (observability.logs), and its
        # access log stays off: api.request_log writes one line per request.
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=2,
        lifespan="on",
        # X-Forwarded-For names the client only when the peer is a trusted proxy; uvicorn's
        # default trusts 127.0.0.1 (and FORWARDED_ALLOW_IPS), so any local process could.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=[str(network) for network in settings.proxy_networks],
    )
    _log().info(
        "hookd listening", version=__version__, url=f"http://{settings.host}:{settings.port}"
    )
    steps = first_steps(settings)
    if sys.stderr.isatty():  # for the person who started it; the log stream has its line
        typer.echo("\n".join(f"  {name:<12} {value}" for name, value in steps.items()), err=True)
    else:
        _log().info("first steps", **steps)
    uvicorn.Server(config).run()


def first_steps(settings: Settings) -> dict[str, str]:
    """What ``hookd serve`` says at start: the console, where the admin token is, a first
    command to try."""
    from hookd.commands.client import DEFAULT_SERVER
    from hookd.config import ADMIN_TOKEN_FILE

    url = settings.effective_public_url
    where = (
        "HOOKD_ADMIN_TOKEN (as set)"
        if settings.admin_token
        else f"in {settings.data_dir / ADMIN_TOKEN_FILE}"
    )
    demo = "hookd demo" if url == DEFAULT_SERVER else f"hookd demo --server {url}"
    return {
        "console": f"{url}/console",
        "admin token": where,
        "try": f"{demo}   (sends a webhook to a request bin and checks it)",
    }


@cli.command(rich_help_panel=SERVER_PANEL)
def prune(
    database_url: Annotated[
        str | None, typer.Option(help="sqlite:///path or postgresql://... [HOOKD_DATABASE_URL]")
    ] = None,
    older_than_days: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="delete messages (with their attempts) and inbound requests older than this "
            "[HOOKD_RETENTION_DAYS; unset: only expunge expired payloads]",
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="rows per transaction")] = 1000,
    dry_run: Annotated[bool, typer.Option(help="print what would go, change nothing")] = False,
) -> None:
    """Expunge expired payloads and delete old messages, attempts and inbound requests (rejected
    ones after HOOKD_REJECTED_RETENTION_DAYS, 7 by default; counters and resolved alert issues
    after HOOKD_STATS_RETENTION_DAYS, 90 by default)."""
    import uvloop

    from hookd.config import Settings
    from hookd.store.db import Database

    given = {"database_url": database_url, "retention_days": older_than_days}
    settings = Settings(**{k: v for k, v in given.items() if v is not None})  # type: ignore[arg-type]
    configure_logging(settings.log_level, log_format=settings.log_format)
    from hookd.services import retention
    from hookd.services.context import utc_now

    days = settings.retention_days
    older_than = timedelta(days=days) if days else None
    rejected = retention.rejected_retention(settings.rejected_retention_days)
    stats = retention.stats_retention(settings.stats_retention_days)

    async def run() -> retention.PruneCounts:
        db = Database(settings.effective_database_url, busy_timeout=settings.sqlite_busy_timeout)
        now = utc_now()
        try:
            if dry_run:
                return await retention.count(
                    db,
                    now,
                    older_than=older_than,
                    rejected_older_than=rejected,
                    stats_older_than=stats,
                )
            return await retention.prune(
                db,
                now,
                older_than=older_than,
                rejected_older_than=rejected,
                stats_older_than=stats,
                batch_size=batch_size,
            )
        finally:
            await db.close()

    counts = uvloop.run(run())
    verb = "would remove" if dry_run else "removed"
    typer.echo(f"hookd prune {verb}:")
    for name, value in counts.as_dict().items():
        typer.echo(f"  {name.replace('_', ' '):<26} {value:>10}")


@cli.command(rich_help_panel=SERVER_PANEL)
def fulfill(
    target: Annotated[str, typer.Argument(help="MODULE:APP, a hookd.fulfillment.Fulfillment")],
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8080,
) -> None:
    """Serve a fulfillment app (Dialogflow ES/CX, Lex V2, Rasa) written with hookd.fulfillment."""
    from hookd.fulfillment import serve as serve_fulfillment

    configure_logging("info")
    try:
        serve_fulfillment(target, host=host, port=port)
    except ValueError as exc:
        typer.echo(f"hookd fulfill: {exc}", err=True)
        raise typer.Exit(2) from exc


@cli.command(name="call", cls=ApiCommand, rich_help_panel=API_PANEL)
def call_command(
    ctx: typer.Context,
    app: Annotated[str, typer.Argument(help="Application id or uid")],
    endpoint: Annotated[str, typer.Argument(help="Endpoint id or uid")],
    payload: Annotated[
        str | None, typer.Option(help="JSON object to send (when there is no body template)")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option(help="k=v, a string param for the templates; repeatable")
    ] = None,
    params: Annotated[str | None, typer.Option(help="JSON object of params (typed values)")] = None,
    timeout_ms: Annotated[
        int | None, typer.Option(help="Deadline in ms (default: the endpoint's timeoutMs)")
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="The hookd API (the same as --server)", show_default=False)
    ] = None,
) -> None:
    """Call an endpoint now through the API and print its answer (docs/calls.md)."""
    from hookd.call_client import call_endpoint, parse_params
    from hookd.commands.client import CliError

    try:
        body: dict[str, object] = {"params": parse_params(params, param or [])}
        if payload is not None:
            body["payload"] = json.loads(payload)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    if timeout_ms is not None:
        body["timeoutMs"] = timeout_ms
    remember(ctx, server=url)
    status, answer = call_endpoint(api(ctx), app, endpoint, body)
    show(ctx, answer, default=Format.JSON)
    answered = status == 200 and (answer.get("fallback") or 200 <= answer.get("status", 0) < 300)
    raise typer.Exit(0 if answered else 1)


@cli.command(name="console-link", rich_help_panel=SERVER_PANEL)
def console_link(
    database_url: Annotated[
        str | None, typer.Option(help="sqlite:///path or postgresql://... [HOOKD_DATABASE_URL]")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="The console's address as the browser sees it [HOOKD_PUBLIC_URL]"),
    ] = None,
) -> None:
    """Print a one-time login link to the web console (valid 10 minutes, works once)."""
    from datetime import datetime

    import uvloop

    from hookd.api.auth import ADMIN
    from hookd.config import Settings
    from hookd.services import console
    from hookd.services.context import Context
    from hookd.store import migrate
    from hookd.store.db import Database

    given = {"database_url": database_url} if database_url else {}
    settings = Settings(**given)  # type: ignore[arg-type]
    configure_logging(settings.log_level, log_format=settings.log_format)

    async def run() -> tuple[str, datetime]:
        db = Database(settings.effective_database_url, busy_timeout=settings.sqlite_busy_timeout)
        try:
            await migrate.require_current(db)
            return await console.create_link(Context(db=db, settings=settings), ADMIN)
        finally:
            await db.close()

    try:
        token, expires = uvloop.run(run())
    except migrate.SchemaOutOfDate as exc:
        typer.echo(f"hookd: {exc}", err=True)
        raise typer.Exit(3) from exc
    base = (url or settings.effective_public_url).rstrip("/")
    typer.echo(f"{base}/console/link?token={token}")
    typer.echo(f"hookd: the link works once, until {expires:%Y-%m-%d %H:%M:%S} UTC", err=True)


@cli.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


register(cli)


def main() -> None:
    # "hookd" however it was started (`python -m hookd` too): in usage lines and completion.
    cli(prog_name="hookd")


if __name__ == "__main__":
    main()
