"""The main key that seals secrets in the database (``store.sealing``): from ``HOOKD_MAIN_KEY``,
else from the data directory's ``main_key`` file, else generated into it (mode 0600, printed
nowhere) the first time a database is sealed."""

from __future__ import annotations

import os
from pathlib import Path

from hookd.config import Settings
from hookd.store import sealed_columns, sealing
from hookd.store.db import Database
from hookd.store.sqlite import files as sqlite_files

KEY_FILE = "main_key"


class MainKeyError(Exception):
    """The main key is missing, malformed or not the database's: hookd must not start."""


def configured_keys(settings: Settings) -> tuple[list[bytes] | None, Path]:
    """The configured keys (``None``: none yet) and the key file's path."""
    path = settings.data_dir / KEY_FILE
    given = settings.main_key.get_secret_value().strip() if settings.main_key else ""
    if given:  # empty is unset, as for HOOKD_ADMIN_TOKEN
        text, source = given, "HOOKD_MAIN_KEY"
    elif path.exists():
        text, source = path.read_text(), str(path)
    else:
        return None, path
    try:
        return sealing.parse_main_keys(text), path
    except ValueError as exc:
        raise MainKeyError(f"{source}: {exc}") from None


async def open_secrets(db: Database, settings: Settings) -> sealed_columns.ResealCounts | None:
    """Install the process's keyring and check it against ``db`` (``check_main_key``); with no
    key configured, a new one is written to the key file before anything is sealed with it."""
    keys, path = configured_keys(settings)
    fresh = keys is None
    new_key = sealing.new_main_key()
    if keys is None:
        keys = sealing.parse_main_keys(new_key)
    sealing.install(sealing.Keyring(keys))
    if fresh and await sealed_columns.is_sealed(db):
        raise MainKeyError(
            f"the database's secrets are sealed, but no main key is configured "
            f"(HOOKD_MAIN_KEY is unset and {path} does not exist)"
        )
    if fresh:
        _write_key_file(path, new_key)
    try:
        return await sealed_columns.check_main_key(db)
    except sealing.SealError as exc:
        raise MainKeyError(f"the main key does not open the database's secrets: {exc}") from None


def _write_key_file(path: Path, key: str) -> None:
    path.parent.mkdir(mode=sqlite_files.DIRECTORY_MODE, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
