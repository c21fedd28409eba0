"""App portal access (Svix's ``authentication`` API): tokens for one application's consumers.

A portal token is an application's principal with some of Svix's capabilities, until it
expires (one hour to seven days after it was made; seven days by default). ``expire_all``
brings the expiry of an application's tokens (or of some sessions' tokens) forward, ``logout``
ends the token that calls it. Expired tokens are deleted when the next token is made.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import timedelta
from typing import Any

import structlog

from hookd import ids
from hookd.core.access import Capability, PortalToken, Principal, portal_capabilities
from hookd.core.domain import Application
from hookd.services.access.tokens import PORTAL_TOKEN_PREFIX, cache_for, new_token
from hookd.services.applications import create_app, not_found
from hookd.services.context import Context
from hookd.services.errors import Forbidden, Invalid
from hookd.store import access as store
from hookd.store import applications as app_store

log = structlog.get_logger("hookd.access")

MIN_EXPIRY = timedelta(hours=1)
MAX_EXPIRY = timedelta(days=7)
DEFAULT_EXPIRY = MAX_EXPIRY
# How far ahead expire-all may set the tokens' end (Svix's "seconds until the old key is expired").
MAX_EXPIRE_DELAY = MAX_EXPIRY


async def _application(
    ctx: Context, app_ref: str, application: Mapping[str, Any] | None
) -> Application:
    """The application ``app_ref`` names; created from ``application`` when missing (its uid
    the path's name unless it has one), as Svix's app portal access does."""
    async with ctx.db.read() as conn:
        app = await app_store.get_app(conn, app_ref)
    if app is not None:
        return app
    if application is None:
        raise not_found(app_ref)
    fields = {**application, "uid": application.get("uid") or app_ref}
    app, _ = await create_app(ctx, fields, get_if_exists=True)
    return app


async def portal_access(
    ctx: Context,
    app_ref: str,
    *,
    capabilities: Iterable[Capability] | None = None,
    read_only: bool = False,
    feature_flags: Iterable[str] = (),
    expiry_seconds: int | None = None,
    session_id: str | None = None,
    application: Mapping[str, Any] | None = None,
) -> tuple[PortalToken, str]:
    """A new portal token for the application and the token itself (never kept: its digest is)."""
    expiry = DEFAULT_EXPIRY if expiry_seconds is None else timedelta(seconds=expiry_seconds)
    if not MIN_EXPIRY <= expiry <= MAX_EXPIRY:
        raise Invalid(
            "expiry is in seconds, from 3600 (one hour) to 604800 (seven days)",
            loc=("body", "expiry"),
        )
    app = await _application(ctx, app_ref, application)
    now = ctx.clock()
    token, digest = new_token(PORTAL_TOKEN_PREFIX)
    granted = PortalToken(
        id=ids.new_id(ids.PORTAL_TOKEN, now),
        app_id=app.id,
        capabilities=portal_capabilities(
            None if capabilities is None else list(capabilities), read_only=read_only
        ),
        feature_flags=frozenset(feature_flags),
        session_id=session_id,
        created_at=now,
        expires_at=now + expiry,
    )
    async with ctx.db.write() as conn:
        await store.delete_expired_tokens(conn, now)
        await store.insert_token(conn, granted, digest)
    log.info(
        "app portal token created",
        token_id=granted.id,
        app_id=app.id,
        capabilities=sorted(granted.capabilities),
        expires_at=granted.expires_at.isoformat(),
    )
    return granted, token


async def expire_all(
    ctx: Context,
    app_ref: str,
    *,
    expiry_seconds: int | None = None,
    session_ids: Collection[str] | None = None,
) -> int:
    """End the application's portal tokens (of ``session_ids`` only, when given) now or in
    ``expiry_seconds``; how many tokens that touched."""
    delay = timedelta(seconds=expiry_seconds or 0)
    if not timedelta(0) <= delay <= MAX_EXPIRE_DELAY:
        raise Invalid("expiry is in seconds, from 0 to 604800 (seven days)", loc=("body", "expiry"))
    async with ctx.db.write() as conn:
        app = await app_store.get_app(conn, app_ref)
        if app is None:
            raise not_found(app_ref)
        touched = await store.expire_tokens(conn, app.id, ctx.clock() + delay, session_ids)
    cache_for(ctx.db).forget()
    log.info("app portal tokens expired", app_id=app.id, tokens=touched)
    return touched


async def logout(ctx: Context, principal: Principal) -> None:
    """End the portal token ``principal`` came with (no other principal can log out)."""
    if principal.kind != "portal":
        raise Forbidden("only an app portal token logs out (revoke an API key instead)")
    async with ctx.db.write() as conn:
        await store.delete_token(conn, principal.name)
    cache_for(ctx.db).forget()
    log.info("app portal token logged out", token_id=principal.name, app_id=principal.app_id)
