"""Throwaway PostgreSQL databases for tests (one per server, dropped afterwards)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Coroutine
from typing import Any, TypeVar

import asyncpg

from tests.support import require_service

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
        subprocess.run(
            [sys.executable, "-m", "hookd", "migrate", "--database-url", url],
            check=True,
            capture_output=True,
        )
    return url


def drop_database(url: str) -> None:
    name = url.rpartition("/")[2]
    _run(_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
