"""Throwaway PostgreSQL databases for tests (one per server, dropped afterwards)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

from hookd.store.db import Database
from hookd.store.migrate import upgrade
from tests.launcher import run_hookd
from tests.support import free_port, require_service

T = TypeVar("T")
ADMIN_URL = os.environ.get("HOOKD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a private loop in a thread (callers may sit inside pytest's loop)."""
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


def _with_database(name: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


async def _execute(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_database(migrate: bool = True) -> str:
    """A new empty database (migrated with `hookd migrate` unless told otherwise); its URL."""
    require_service("postgresql", "127.0.0.1", 5432)
    name = f"hookd_test_{uuid.uuid4().hex[:12]}"
    _run(_execute(f'CREATE DATABASE "{name}"'))
    url = _with_database(name)
    if migrate:
        migrate_database(url)
    return url


def migrate_database(url: str) -> None:
    """Run `hookd migrate` on ``url``."""
    run_hookd(["migrate", "--database-url", url], check=True)


def drop_database(url: str) -> None:
    name = url.rpartition("/")[2]
    _run(_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class PrivateCluster:
    """A PostgreSQL server of the test's own (initdb in a temporary directory, a free port).

    Fault tests restart it; restarting the machine's shared server instead would break every
    other test (and every other process) using it at that moment.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="hookd-pg-"))
        self.data = self.root / "data"
        self.bin = _postgres_bindir()
        if os.geteuid() == 0:  # the server refuses to run as root
            shutil.chown(self.root, "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        else:
            self._as = []

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def log(self) -> str:
        return str(self.root / "log")

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [*self._as, str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", *args],
            check=True,
            stdout=subprocess.DEVNULL,  # the server must not hold a pipe of ours open
            stderr=subprocess.DEVNULL,
        )

    def start(self) -> None:
        initdb = [str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"]
        subprocess.run(
            [*self._as, *initdb, "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
        )
        self.resume()

    def pause(self) -> None:
        """Stop the server (closing every connection) but keep its data, to ``resume()`` later."""
        self._pg_ctl("-m", "fast", "stop")

    def resume(self) -> None:
        """Start the server; returns once it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-o", options, "-l", self.log, "start")

    def restart(self) -> None:
        """Stop (closing every connection) and start again; returns once it accepts connections."""
        self._pg_ctl("-m", "fast", "-l", self.log, "restart")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def _postgres_bindir() -> Path:
    """Where initdb and pg_ctl live (HOOKD_TEST_PG_BINDIR, else Debian's newest install)."""
    if given := os.environ.get("HOOKD_TEST_PG_BINDIR"):
        return Path(given)
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        message = "no PostgreSQL server binaries (initdb) found; set HOOKD_TEST_PG_BINDIR"
        if os.environ.get("HOOKD_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found[-1].parent


@contextlib.asynccontextmanager
async def migrated_database(kind: str, sqlite_path: Path) -> AsyncIterator[Database]:
    """A ``Database`` on a fresh SQLite file (migrated) or a throwaway PostgreSQL database
    (migrated on creation), closed and dropped afterwards."""
    url = f"sqlite:///{sqlite_path}" if kind == "sqlite" else create_database()
    database = Database(url)
    if database.is_sqlite:
        await upgrade(database)
    try:
        yield database
    finally:
        await database.close()
        if not database.is_sqlite:
            drop_database(url)
