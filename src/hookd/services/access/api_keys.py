"""API keys: created (the token shown once), listed, read and revoked by an admin."""

from __future__ import annotations

from datetime import datetime

import structlog

from hookd import ids
from hookd.core.access import ADMIN, ApiKey, Principal, Scope
from hookd.core.domain import ListQuery, Page
from hookd.services.access.tokens import API_KEY_PREFIX, cache_for, new_token
from hookd.services.context import Context
from hookd.services.errors import Invalid, NotFound
from hookd.store import access as store
from hookd.store import applications as app_store

log = structlog.get_logger("hookd.access")


def _not_found(key_id: str) -> NotFound:
    return NotFound(f"api key {key_id!r} not found")


async def create_key(
    ctx: Context,
    *,
    name: str,
    scope: Scope,
    app_ref: str | None,
    expires_at: datetime | None,
) -> tuple[ApiKey, str]:
    """A new key and its token (the only time the token is known: only its digest is kept)."""
    if scope is Scope.APPLICATION and app_ref is None:
        raise Invalid("a key of scope 'application' names its application", loc=("body", "appId"))
    if scope is not Scope.APPLICATION and app_ref is not None:
        raise Invalid("appId is for keys of scope 'application' only", loc=("body", "appId"))
    now = ctx.clock()
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise Invalid(
                "expiresAt needs a UTC offset, e.g. 2030-01-31T12:00:00Z", loc=("body", "expiresAt")
            )
        if expires_at <= now:
            raise Invalid("expiresAt is in the past", loc=("body", "expiresAt"))
    token, digest = new_token(API_KEY_PREFIX)
    async with ctx.db.write() as conn:
        app_id = None
        if app_ref is not None:
            app = await app_store.get_app(conn, app_ref)
            if app is None:
                raise Invalid(f"application {app_ref!r} not found", loc=("body", "appId"))
            app_id = app.id
        key = ApiKey(
            id=ids.new_id(ids.API_KEY, now),
            name=name,
            scope=scope,
            app_id=app_id,
            created_at=now,
            last_used_at=None,
            expires_at=expires_at,
        )
        await store.insert_key(conn, key, digest)
    log.info("api key created", key_id=key.id, scope=scope.value, app_id=app_id)
    return key, token


async def list_keys(ctx: Context, query: ListQuery) -> Page[ApiKey]:
    """A page of keys (never their tokens), oldest first unless ``query`` says otherwise."""
    async with ctx.db.read() as conn:
        return await store.list_keys(
            conn, iterator=query.iterator, limit=query.limit, descending=query.descending(False)
        )


async def get_key(ctx: Context, key_id: str) -> ApiKey:
    async with ctx.db.read() as conn:
        key = await store.get_key(conn, key_id)
    if key is None:
        raise _not_found(key_id)
    return key


async def revoke_key(ctx: Context, key_id: str) -> None:
    """Delete a key: refused at once by this process, within ``CACHE_SECONDS`` by the others."""
    async with ctx.db.write() as conn:
        deleted = await store.delete_key(conn, key_id)
    if not deleted:
        raise _not_found(key_id)
    cache_for(ctx.db).forget()
    log.info("api key revoked", key_id=key_id)


async def principal_named(ctx: Context, name: str) -> Principal | None:
    """The principal a console session was signed in as, as it is now: the admin token's
    (``"admin"``), or the API key of that id while it exists and has not expired; None once the
    key is revoked or expired (its sessions end with it)."""
    if name == ADMIN.name:
        return ADMIN
    async with ctx.db.read() as conn:
        key = await store.get_key(conn, name)
    if key is None:
        return None
    if key.expires_at is not None and key.expires_at <= ctx.clock():
        return None
    return key.principal()
