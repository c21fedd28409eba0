"""`hookd serve`'s options: one per setting (``hookd.config.Settings``), grouped in its help.

Each field of ``Settings`` is an option ``--field-name`` (a flag pair ``--x/--no-x`` for a
boolean) shown with its description, environment variable (``HOOKD_FIELD_NAME``) and default,
in the help panel ``GROUPS`` puts it in. Only values given on the command line are passed to
``Settings``; the environment is read by ``Settings`` itself, as without flags, so a flag wins
over its variable. `hookd serve` then puts the flags' values into its environment
(``export``): the delivery processes it starts get the same settings.

The options are built when ``serve`` is parsed or its help printed (``SettingsCommand``), not
when `hookd` starts: ``hookd --help`` and the API commands never import the settings module.
A new setting needs a group here (a test walks ``Settings.model_fields``).
"""

from __future__ import annotations

import inspect
import os
import typing
from collections.abc import Mapping, MutableMapping
from types import NoneType, UnionType
from typing import Annotated, Any, Literal

import typer

from hookd.commands.family import HookdCommand

ENV_PREFIX = "HOOKD_"
GIVEN_KEY = "hookd.settings"
COMMAND_LINE = "COMMANDLINE"  # click's ParameterSource of a value from the command line

GROUPS: Mapping[str, tuple[str, ...]] = {
    "Server": (
        "host",
        "port",
        "role",
        "public_url",
        "health_port",
        "max_payload_bytes",
        "header_timeout",
        "body_timeout",
        "max_connections_per_address",
        "trusted_proxies",
    ),
    "Database": ("database_url", "sqlite_busy_timeout", "queue_url", "queue_prefix"),
    "Delivery": (
        "retry_schedule",
        "max_retry_after",
        "request_timeout",
        "signature_headers",
        "concurrency",
        "endpoint_concurrency",
        "delivery_processes",
        "breaker_failures",
        "breaker_cooldown",
        "disable_after",
        "poll_interval",
        "lease_seconds",
        "shutdown_grace",
        "thin_link_ttl_seconds",
        "validate_payloads",
    ),
    "Transformations": ("transform_timeout_ms", "transform_max_memory_mb", "transform_workers"),
    "Receiving": (
        "bin_max_requests",
        "bin_max_body_bytes",
        "relay_answer_timeout",
        "dedup_window_seconds",
        "rejected_body_bytes",
        "rejected_coalesce_seconds",
        "rejected_rate_limit",
    ),
    "Retention": (
        "retention_days",
        "rejected_retention_days",
        "stats_retention_days",
        "prune_interval",
    ),
    "Security": ("admin_token", "main_key", "allow_networks", "allow_own_url"),
    "Observability": (
        "log_level",
        "log_format",
        "log_sql",
        "metrics",
        "metrics_address",
        "metrics_app_labels",
        "metrics_app_label_limit",
    ),
    "Alerts": (
        "alert_interval",
        "smtp_host",
        "smtp_port",
        "smtp_username",
        "smtp_password",
        "smtp_from",
        "smtp_starttls",
        "smtp_tls",
    ),
}
OTHER = "Other settings"
# Settings whose value is not the plain type their annotation says.
METAVARS = {"delivery_processes": "<int|auto>", "retry_schedule": "<seconds,...>"}


def group_of(name: str) -> str:
    return next((group for group, names in GROUPS.items() if name in names), OTHER)


def env_var(name: str) -> str:
    return ENV_PREFIX + name.upper()


def option_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def _bare(annotation: Any) -> Any:
    """The annotation without ``Annotated`` and ``| None``."""
    if typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, UnionType) or typing.get_origin(annotation) is typing.Union:
        members = [arg for arg in typing.get_args(annotation) if arg is not NoneType]
        if len(members) == 1:
            return members[0]
    return annotation


def _metavar(name: str, annotation: Any) -> str:
    if name in METAVARS:
        return METAVARS[name]
    bare = _bare(annotation)
    if typing.get_origin(bare) is Literal:
        return "<" + "|".join(str(arg) for arg in typing.get_args(bare)) + ">"
    if typing.get_origin(bare) is tuple:
        return "<list>"
    if bare is int:
        return "<int>"
    if bare is float:
        return "<number>"
    if getattr(bare, "__name__", "") == "SecretStr":
        return "<secret>"
    return "<text>"


def _shown_default(value: Any) -> str | None:
    """A default as help shows it; None: nothing to show (unset, or said in the description)."""
    if value is None or value == "" or value == ():
        return None
    if isinstance(value, tuple):
        return ",".join(_shown_default(item) or "" for item in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _parameter(name: str, field: Any) -> inspect.Parameter:
    from rich.markup import escape

    group = group_of(name)
    # Help is rich markup: "redis://[user:password@]host[:port][/db]" must print as written.
    help_text = escape((field.description or "").strip()) or None
    bare = _bare(field.annotation)
    if bare is bool:
        flag = option_name(name)
        option = typer.Option(
            f"{flag}/--no-{flag[2:]}",
            help=help_text,
            envvar=env_var(name),
            show_envvar=True,
            rich_help_panel=group,
        )
        return inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=bool(field.default),
            annotation=Annotated[bool, option],
        )
    default = _shown_default(field.default)
    option = typer.Option(
        option_name(name),
        help=help_text,
        envvar=env_var(name),
        show_envvar=True,
        metavar=_metavar(name, field.annotation),
        show_default=default is not None,
        rich_help_panel=group,
    )
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[str | None, option],
    )


def settings_params() -> list[Any]:
    """The options of every setting, as typer makes them from a signature."""
    from hookd.config import Settings

    order = {name: i for i, name in enumerate(n for names in GROUPS.values() for n in names)}
    fields = sorted(Settings.model_fields.items(), key=lambda item: order.get(item[0], len(order)))
    parameters = [_parameter(name, field) for name, field in fields]

    def settings(**_: Any) -> None:
        """Only its options are used."""

    settings.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    settings.__annotations__ = {each.name: each.annotation for each in parameters}
    probe = typer.Typer(add_completion=False)
    probe.command()(settings)
    return list(typer.main.get_command(probe).params)


class SettingsCommand(HookdCommand):
    """A command with an option per setting, built when first needed."""

    _settings: list[Any] | None = None

    def get_params(self, ctx: typer.Context) -> list[Any]:  # type: ignore[override]
        if self._settings is None:
            self._settings = settings_params()
        params = super().get_params(ctx)
        own = len(self.params)
        from hookd.commands.family import plain_flags

        return [*params[:own], *plain_flags(self._settings), *params[own:]]

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        names = {param.name for param in self._settings or ()}
        given = {}
        for name in names:
            value = ctx.params.pop(name, None)
            source = ctx.get_parameter_source(name) if name else None
            if getattr(source, "name", None) == COMMAND_LINE:
                given[name] = value
        ctx.meta[GIVEN_KEY] = given
        return super().invoke(ctx)


def export(given: Mapping[str, Any], environ: MutableMapping[str, str] | None = None) -> None:
    """Put the settings the command line gave into the environment (``HOOKD_*``), for the
    processes `hookd serve` starts (its delivery processes read their settings from it)."""
    env = os.environ if environ is None else environ
    for name, value in given.items():
        if isinstance(value, bool):
            env[env_var(name)] = "true" if value else "false"
        elif value is not None:
            env[env_var(name)] = str(value)


def given_settings(ctx: typer.Context) -> dict[str, Any]:
    """The settings the command line gave (the environment's are ``Settings``' to read)."""
    found: dict[str, Any] = ctx.meta.get(GIVEN_KEY, {})
    return found
