"""An in-process cache of applications, endpoints and event types, for the group-committed
write paths.

Every message create needs its application, that application's endpoints and its event type
(for payload versions and schemas), every accepted inbound request its source's forwarding
endpoints; they change rarely. The cache is only used where it is provably fresh: on SQLite,
where one process owns the file and its writes take turns (``Database.run_write`` and
``Database.write`` share one lock). Any write this process makes to ``applications``,
``endpoints`` or ``event_types`` (and any failed write transaction) bumps
``Database.config_version``, and the cache drops everything it holds when that number moved.
Other processes on the same file (``HOOKD_DELIVERY_PROCESSES``: a delivery process disables an
endpoint) and tools are seen through the config clock, a version SQLite's triggers raise on every
such write: each group-committed transaction reads it first (``ConfigCache.sync``). On
PostgreSQL other processes change endpoints too, so there is no cache there (``for_database``
returns ``None``) and every group reads them in its transaction.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import Connection, select

from hookd.core.domain import Application, Endpoint, EventType
from hookd.store.db import Database
from hookd.store.message_writes import app_endpoints
from hookd.store.schema import config_clock
from hookd.store.sqlite.statements import select_rows

MAX_ENTRIES = 10_000

V = TypeVar("V")


class ConfigCache:
    """Applications by id or uid and endpoint lists by application id, valid for one version."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._version = db.config_version
        self._clock = -1  # the config clock's version when last synced (none yet)
        self._apps: dict[str, Application] = {}
        self._endpoints: dict[str, list[Endpoint]] = {}
        # Unlike applications, a missing event type is remembered: most messages have none.
        self._event_types: dict[str, EventType | None] = {}

    def app(self, id_or_uid: str, load: Callable[[], Application | None]) -> Application | None:
        """The application, from the cache or ``load`` (a miss is not remembered)."""
        return self._get(self._apps, id_or_uid, load)

    def endpoints(self, app_id: str, load: Callable[[], list[Endpoint]]) -> list[Endpoint]:
        endpoints = self._get(self._endpoints, app_id, load)
        assert endpoints is not None
        return endpoints

    async def event_type(
        self, name: str, load: Callable[[], Awaitable[EventType | None]]
    ) -> EventType | None:
        """The event type (or ``None``: there is none), from the cache or ``load``."""
        self._check_version()
        if name in self._event_types:
            return self._event_types[name]
        version = self._db.config_version
        found = await load()
        if version == self._db.config_version == self._version:
            if len(self._event_types) >= MAX_ENTRIES:
                self._event_types.clear()
            self._event_types[name] = found
        return found

    def _get(self, table: dict[str, V], key: str, load: Callable[[], V | None]) -> V | None:
        self._check_version()
        value = table.get(key)
        if value is not None:
            return value
        version = self._db.config_version
        value = load()
        # Remember it only if nothing changed the configuration while it was loaded.
        if value is not None and version == self._db.config_version == self._version:
            if len(table) >= MAX_ENTRIES:
                table.clear()
            table[key] = value
        return value

    def sync(self, conn: Connection) -> ConfigCache:
        """Drop everything if any process (or tool) changed the configuration since the last
        ``sync``: SQLite's config clock, read in ``conn``'s transaction. Returns the cache."""
        [(clock,)] = select_rows(conn, _CLOCK, {})
        if clock != self._clock:
            self._clock = clock
            self._db.config_version += 1  # clears this and any other cache of the process
        return self

    def _check_version(self) -> None:
        if self._db.config_version != self._version:
            self._apps.clear()
            self._endpoints.clear()
            self._event_types.clear()
            self._version = self._db.config_version


_CLOCK = select(config_clock.c.version).where(config_clock.c.id == 1)
_caches: weakref.WeakKeyDictionary[Database, ConfigCache] = weakref.WeakKeyDictionary()


def for_database(db: Database, *, sole_process: bool) -> ConfigCache | None:
    """The process's cache of ``db`` when one can be kept correct (SQLite, and this process the
    only one using the file: ``sole_process``), else ``None``. Every group-committed write path
    (message creates, ingest) shares it."""
    if not (db.is_sqlite and sole_process):
        return None
    cache = _caches.get(db)
    if cache is None:
        cache = _caches[db] = ConfigCache(db)
    return cache


def endpoints_of(conn: Connection, app_id: str, cache: ConfigCache | None) -> list[Endpoint]:
    """``app_id``'s endpoints, from ``cache`` when there is one, else read in ``conn``."""
    if cache is None:
        return app_endpoints(conn, app_id)
    return cache.endpoints(app_id, lambda: app_endpoints(conn, app_id))
