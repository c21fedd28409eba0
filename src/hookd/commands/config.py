"""Which server a command talks to and with which token: flags, environment, saved profiles.

``hookd login`` saves profiles in ``$XDG_CONFIG_HOME/hookd/config.toml`` (``~/.config/hookd/``
by default), the directory 0700 and the file 0600, written whole and renamed into place::

    [profiles.default]
    server = "http://127.0.0.1:8071"
    token = "hk_..."

The server is the first of: ``--server``, ``HOOKD_URL``, the profile's (``--profile`` or
``HOOKD_PROFILE``, else ``default``), ``http://127.0.0.1:8071``. The token is the first of:
``--token``, ``HOOKD_TOKEN``, the profile's (only when the server is the profile's own: a
profile's token is never sent to another server), ``HOOKD_ADMIN_TOKEN``, and, for a server on
this machine (loopback), the admin token ``hookd serve`` stored in its data directory
(``./.hookd/admin_token``, or beside ``HOOKD_DATABASE_URL``'s SQLite file).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hookd.commands.client import DEFAULT_SERVER, CliError, ExitCode

FILE_NAME = "config.toml"
DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
DEFAULT_PROFILE = "default"
SERVER_ENV = "HOOKD_URL"
TOKEN_ENV = "HOOKD_TOKEN"  # noqa: S105 - a variable name, not a secret
PROFILE_ENV = "HOOKD_PROFILE"
ADMIN_TOKEN_ENV = "HOOKD_ADMIN_TOKEN"  # noqa: S105 - a variable name
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Profile:
    server: str
    token: str


@dataclass(frozen=True)
class Connection:
    """Where a command sends its requests, and as whom."""

    server: str
    token: str | None


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "hookd"


def config_path() -> Path:
    return config_dir() / FILE_NAME


def load_profiles(path: Path | None = None) -> dict[str, Profile]:
    """The saved profiles (none when there is no file); a file others may read is warned of."""
    path = path or config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc}") from exc
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        print(
            f"hookd: warning: {path} is open to other users (mode {mode:04o}); "
            f"run: chmod 600 {path}",
            file=sys.stderr,
        )
    try:
        document = tomllib.loads(raw.decode())
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CliError(f"{path} is not valid TOML: {exc}") from exc
    profiles: dict[str, Profile] = {}
    for name, fields in (document.get("profiles") or {}).items():
        if isinstance(fields, dict) and {"server", "token"} <= fields.keys():
            profiles[str(name)] = Profile(str(fields["server"]), str(fields["token"]))
    return profiles


def _toml_string(value: str) -> str:
    # A JSON string with ASCII escapes is a TOML basic string (quote, backslash, \u escapes).
    return json.dumps(value, ensure_ascii=True)


def save_profile(name: str, profile: Profile, path: Path | None = None) -> Path:
    """Add or replace a profile; the file is rewritten 0600 in a 0700 directory."""
    path = path or config_path()
    profiles = load_profiles(path)
    profiles[name] = profile
    lines = ["# hookd command-line profiles (`hookd login`). Keep this file private (0600)."]
    for each, saved in sorted(profiles.items()):
        lines += [
            "",
            f"[profiles.{_toml_string(each)}]",
            f"server = {_toml_string(saved.server)}",
            f"token = {_toml_string(saved.token)}",
        ]
    path.parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    os.chmod(path.parent, DIRECTORY_MODE)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "w") as handle:
            os.fchmod(handle.fileno(), FILE_MODE)  # whatever the umask
            handle.write("\n".join(lines) + "\n")
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise
    return path


def _same_server(one: str, other: str) -> bool:
    return one.rstrip("/") == other.rstrip("/")


def is_loopback(server: str) -> bool:
    return (urlsplit(server).hostname or "") in LOOPBACK_HOSTS


def stored_admin_token() -> str | None:
    """The admin token ``hookd serve`` stored in its data directory, if there is one here."""
    from pydantic import ValidationError

    from hookd.config import ADMIN_TOKEN_FILE, Settings

    try:
        path = Settings().data_dir / ADMIN_TOKEN_FILE
    except ValidationError:
        return None  # `hookd serve` would not start with these settings either
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def resolve(
    *,
    server: str | None = None,
    token: str | None = None,
    profile: str | None = None,
    environ: dict[str, str] | None = None,
) -> Connection:
    """The connection from the flags given (None: not given), the environment and the profiles."""
    env = os.environ if environ is None else environ
    name = profile or env.get(PROFILE_ENV) or None
    profiles = load_profiles()
    chosen = profiles.get(name or DEFAULT_PROFILE)
    if name is not None and chosen is None:
        known = ", ".join(sorted(profiles)) or "none; run hookd login"
        raise CliError(f"no profile {name!r} in {config_path()} (profiles: {known})")
    explicit = server or env.get(SERVER_ENV) or None
    url = explicit or (chosen.server if chosen else DEFAULT_SERVER)
    found = token or env.get(TOKEN_ENV) or None
    if found is None and chosen is not None and _same_server(url, chosen.server):
        found = chosen.token
    found = found or env.get(ADMIN_TOKEN_ENV) or None
    if found is None and is_loopback(url):
        found = stored_admin_token()
    return Connection(url, found)


def require_token(connection: Connection) -> str:
    if not connection.token:
        raise CliError(
            f"no token for {connection.server}: pass --token, set {TOKEN_ENV}, or run "
            "`hookd login`",
            ExitCode.AUTH,
        )
    return connection.token


def profile_fields(profile: Profile) -> dict[str, Any]:
    """A profile as shown (the token masked but for its last four characters)."""
    return {"server": profile.server, "token": "****" + profile.token[-4:]}
