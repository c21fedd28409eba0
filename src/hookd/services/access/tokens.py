"""The principal of a stored token (an API key or an app portal token), found by its digest.

Tokens are random (256 bits) and prefixed by their kind (:data:`API_KEY_PREFIX`,
:data:`PORTAL_TOKEN_PREFIX`), so only prefixed tokens are looked up and an unknown one costs one
indexed read. The database keeps only each token's SHA-256: a digest read from it cannot be used
to authenticate (no salt or stretching is needed for random tokens).

Each process keeps what it found (a principal, or that there is none) for
:data:`CACHE_SECONDS`: a busy key costs one read per second per process, not one per request.
Revoking a key, expiring or logging out portal tokens empties this process's cache at once;
other processes (``--role api`` replicas) see the change when their entry is older than
:data:`CACHE_SECONDS`. That is the documented bound on revocation (docs/access.md). Expiry times
are checked on every request against the clock, so a token never outlives its ``expires_at``.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
import time
import weakref
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from hookd.core.access import Principal
from hookd.services.context import Context
from hookd.store import access as store
from hookd.store import applications as app_store
from hookd.store.db import Database

API_KEY_PREFIX = "hookd_key_"
PORTAL_TOKEN_PREFIX = "hookd_portal_"  # noqa: S105 - a token prefix
TOKEN_BYTES = 32  # 256 bits
CACHE_SECONDS = 1.0
MAX_ENTRIES = 10_000
# A key's last use is written when it is looked up and the stored one is older than this: at
# most one write a minute per key and process, none on the requests in between.
LAST_USED_EVERY = timedelta(minutes=1)


def digest(token: bytes) -> bytes:
    """What is kept of a token: its SHA-256."""
    return hashlib.sha256(token).digest()


def new_token(prefix: str) -> tuple[str, bytes]:
    """A new random token with ``prefix``, and its digest."""
    token = prefix + secrets.token_urlsafe(TOKEN_BYTES)
    return token, digest(token.encode())


Load = Callable[[], Coroutine[Any, Any, Principal | None]]


class TokenCache:
    """Principals by token digest, each kept for ``ttl`` seconds. Concurrent lookups of one
    digest share one load (a task of its own: a caller that goes away does not fail the others);
    a load that began before :meth:`forget` answers its callers but is not kept."""

    def __init__(
        self, ttl: float = CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[bytes, tuple[float, Principal | None]] = {}
        self._loading: dict[bytes, asyncio.Task[Principal | None]] = {}
        self._generation = 0

    async def principal(self, key: bytes, load: Load) -> Principal | None:
        now = self._clock()
        entry = self._entries.get(key)
        if entry is not None and now - entry[0] < self._ttl:
            return entry[1]
        task = self._loading.get(key)
        if task is None:
            task = self._loading[key] = asyncio.ensure_future(load())
            task.add_done_callback(functools.partial(self._loaded, key, now, self._generation))
        return await asyncio.shield(task)

    def _loaded(
        self, key: bytes, at: float, generation: int, task: asyncio.Task[Principal | None]
    ) -> None:
        if self._loading.get(key) is task:
            del self._loading[key]
        if task.cancelled() or task.exception() is not None or generation != self._generation:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (at, task.result())

    def forget(self) -> None:
        """Drop everything (a token was revoked or expired): the next lookups read again, also
        those that would have joined a load begun before."""
        self._generation += 1
        self._entries.clear()
        self._loading.clear()


_caches: weakref.WeakKeyDictionary[Database, TokenCache] = weakref.WeakKeyDictionary()


def cache_for(db: Database) -> TokenCache:
    """This process's cache of ``db``'s tokens."""
    cache = _caches.get(db)
    if cache is None:
        cache = _caches[db] = TokenCache()
    return cache


async def find(ctx: Context, token: bytes) -> Principal | None:
    """The principal of a stored, unexpired token; ``None`` for any other token."""
    if token.startswith(API_KEY_PREFIX.encode()):
        load = _load_key
    elif token.startswith(PORTAL_TOKEN_PREFIX.encode()):
        load = _load_portal_token
    else:
        return None
    key = digest(token)
    principal = await cache_for(ctx.db).principal(key, lambda: load(ctx, key))
    if principal is None or principal.expired(ctx.clock()):
        return None
    return principal


async def _load_key(ctx: Context, key: bytes) -> Principal | None:
    async with ctx.db.read() as conn:
        found = await store.key_by_digest(conn, key)
    if found is None:
        return None
    now = ctx.clock()
    if found.last_used_at is None or now - found.last_used_at >= LAST_USED_EVERY:
        async with ctx.db.write() as conn:
            await store.mark_used(conn, found.id, now)
    return found.principal()


async def _load_portal_token(ctx: Context, key: bytes) -> Principal | None:
    async with ctx.db.read() as conn:
        found = await store.token_by_digest(conn, key)
    return None if found is None else found.principal()


async def owns_app(ctx: Context, principal: Principal, app_ref: str) -> bool:
    """Whether ``app_ref`` (an application's id or uid, as a path names it) is ``principal``'s
    application: the one the routes would find by that name."""
    if principal.app_id is None:
        return True
    if app_ref == principal.app_id:
        return True
    async with ctx.db.read() as conn:
        app = await app_store.get_app(conn, app_ref)
    return app is not None and app.id == principal.app_id
