"""Console sign-ins: sessions and one-time login links (the web console, hookd.api.console).

A session or a link is a random 256-bit token given to the browser (a cookie) or printed by
``hookd console-link``; the database keeps only its SHA-256, with whom it signs in and until
when. Random tokens of that size need no salt or stretching: their digest is useless to a
reader of the table. Sessions slide: each use pushes the expiry ``SESSION_IDLE`` ahead (written
at most once per ``TOUCH_EVERY``), never past ``SESSION_MAX`` after sign-in. A link expires after
``LINK_TTL`` and works once.

Both live in the database rather than the data directory so that every process serving the API
(``HOOKD_ROLE=api`` on several hosts, one PostgreSQL) knows every session, and a link printed on
one host signs in on any.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from hookd.services.context import Context
from hookd.store import console as store
from hookd.store.codec import from_ms, to_ms

SESSION_IDLE = timedelta(hours=12)
SESSION_MAX = timedelta(days=7)
TOUCH_EVERY = timedelta(minutes=1)
LINK_TTL = timedelta(minutes=10)
TOKEN_BYTES = 32


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    principal: str
    expires_at: datetime


def new_token() -> str:
    """A random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> str:
    """What is stored of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def _expiry(created: datetime, now: datetime) -> datetime:
    return min(now + SESSION_IDLE, created + SESSION_MAX)


async def start_session(ctx: Context, principal: str) -> tuple[str, ConsoleSession]:
    """A new session for ``principal``: its token (for the cookie) and expiry. Expired sessions
    and links are removed on the way (a sign-in is rare; the deletes use their index)."""
    now = ctx.clock()
    token = new_token()
    expires = _expiry(now, now)
    async with ctx.db.write() as conn:
        await store.delete_expired(conn, to_ms(now))
        await store.insert_session(conn, digest(token), principal, to_ms(now), to_ms(expires))
    return token, ConsoleSession(principal, expires)


async def find_session(ctx: Context, token: str) -> ConsoleSession | None:
    """The live session of ``token``, its expiry pushed back; None when unknown or expired."""
    if not token:
        return None
    now = ctx.clock()
    key = digest(token)
    async with ctx.db.read() as conn:
        found = await store.get_session(conn, key)
    if found is None or found.expires_at <= to_ms(now):
        return None
    expires = from_ms(found.expires_at)
    if now - from_ms(found.seen_at) >= TOUCH_EVERY:
        expires = _expiry(from_ms(found.created_at), now)
        async with ctx.db.write() as conn:
            await store.touch_session(conn, key, to_ms(now), to_ms(expires))
    return ConsoleSession(found.principal, expires)


async def end_session(ctx: Context, token: str) -> None:
    """Sign out: the session's token stops working at once."""
    async with ctx.db.write() as conn:
        await store.delete_session(conn, digest(token))


async def create_link(
    ctx: Context, principal: str, ttl: timedelta = LINK_TTL
) -> tuple[str, datetime]:
    """A one-time login link's token for ``principal`` and when it expires."""
    now = ctx.clock()
    token = new_token()
    expires = now + ttl
    async with ctx.db.write() as conn:
        await store.delete_expired(conn, to_ms(now))
        await store.insert_link(conn, digest(token), principal, to_ms(now), to_ms(expires))
    return token, expires


async def use_link(ctx: Context, token: str) -> str | None:
    """Whom the link signs in (it is spent by this), or None: unknown, used or expired."""
    if not token:
        return None
    async with ctx.db.write() as conn:
        return await store.take_link(conn, digest(token), to_ms(ctx.clock()))
