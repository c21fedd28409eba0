"""Which database errors mean "the database cannot be reached right now" (a retry may succeed).

The API answers those with 503 and ``Retry-After`` instead of a 500: PostgreSQL stopped,
restarting or refusing connections, a connection dropped mid-statement, the pool exhausted, or
an SQLite file locked beyond its busy timeout, a PostgreSQL transaction rolled back as a
deadlock's victim or for a serialization failure (run again, it goes through). Nothing was
acknowledged, so a client's retry loses nothing. Errors in the SQL or the data (constraints,
syntax) are not outages.

A full disk (SQLite's ``SQLITE_FULL``, PostgreSQL's ``disk_full``, ``ENOSPC``) is told apart
by :func:`is_storage_full`: the API answers it with 503 ``storage_unavailable``; hookd writes
again once space is freed.
"""

from __future__ import annotations

import errno
import socket
import sqlite3
from collections.abc import Iterator

import asyncpg.exceptions as pg
from sqlalchemy import exc as sa

__all__ = ["DatabaseBusy", "is_outage", "is_storage_full"]


class DatabaseBusy(Exception):
    """A write waited its busy timeout for SQLite's write lock (another process holds it)."""


# SQLAlchemy's pool, and the drivers themselves (asyncpg lets the socket's error out on connect).
OUTAGES: tuple[type[BaseException], ...] = (
    sa.DisconnectionError,
    sa.TimeoutError,  # no pooled connection came free in time
    ConnectionError,  # refused, reset, broken pipe
    socket.gaierror,  # the database host's name does not resolve
    pg.PostgresConnectionError,  # SQLSTATE class 08, and a connection closed mid-operation
    pg.CannotConnectNowError,  # 57P03: starting up or shutting down
    pg.AdminShutdownError,  # 57P01: terminated by a fast shutdown or restart
    pg.CrashShutdownError,  # 57P02
    pg.TooManyConnectionsError,  # 53300
    pg.DeadlockDetectedError,  # 40P01: this transaction was the victim, rolled back
    pg.SerializationError,  # 40001
    DatabaseBusy,
)
# SQLite's words for a busy or unreachable file; other OperationalErrors are bugs.
SQLITE_OUTAGES = ("database is locked", "database table is locked", "unable to open", "disk i/o")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the database is unavailable for now."""
    for link in _chain(exc):
        if isinstance(link, sqlite3.OperationalError):
            return any(words in str(link).lower() for words in SQLITE_OUTAGES)
        if isinstance(link, sa.DBAPIError):
            if link.connection_invalidated:
                return True
            if isinstance(link.orig, sqlite3.OperationalError):
                return is_outage(link.orig)  # decided by the driver's error it wraps
            if isinstance(link.orig, sqlite3.Error):
                continue  # decided by the sqlite3 error in the chain
            if isinstance(link, sa.OperationalError | sa.InterfaceError):
                return True
        if isinstance(link, OUTAGES):
            return True
    return False


def is_storage_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the disk under the database is full."""
    for link in _chain(exc):
        orig = link.orig if isinstance(link, sa.DBAPIError) else None
        if orig is not None and is_storage_full(orig):
            return True
        if isinstance(link, sqlite3.Error):
            code = getattr(link, "sqlite_errorcode", None)
            if code is not None and code & 0xFF == sqlite3.SQLITE_FULL:
                return True
        if isinstance(link, pg.DiskFullError):  # 53100
            return True
        if isinstance(link, OSError) and link.errno == errno.ENOSPC:
            return True
    return False
