"""The SQLite file on disk: its permissions, and the durability every connection asks for.

The data directory is created ``0700`` and the database file ``0600`` before SQLite opens it;
SQLite gives its ``-wal`` and ``-shm`` files the database file's permissions. They hold every
message, payload and endpoint secret, so no other user of the machine may read them.
:func:`loose_permissions` lists what is more open than that (a directory made by hand, files
copied with a default umask) for a warning at start; hookd does not change them itself.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

# PRAGMA synchronous of every connection: a commit syncs the WAL before it returns, so what was
# acknowledged survives a power loss or a kernel crash (store.sqlite.writer).
SYNCHRONOUS = "FULL"
# Transactions that acknowledge nothing (store.sqlite.writer): synced by the next FULL commit.
UNSYNCED = "NORMAL"
DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
# SQLite's companions of the database file (WAL mode).
SUFFIXES = ("", "-wal", "-shm")


def prepare(path: Path) -> None:
    """Create the directory of ``path`` (0700) and the empty database file (0600) if missing."""
    path.parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


def loose_permissions(path: Path, *others: Path) -> list[tuple[Path, str]]:
    """The data directory, the database files and ``others`` that group or others may use,
    with their modes (``"0755"``); missing files are skipped."""
    loose: list[tuple[Path, str]] = []
    candidates = [path.parent, *(Path(f"{path}{suffix}") for suffix in SUFFIXES), *others]
    for candidate in candidates:
        try:
            mode = stat.S_IMODE(candidate.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            loose.append((candidate, f"{mode:04o}"))
    return loose
