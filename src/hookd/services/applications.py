"""Application operations."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd import ids
from hookd.core.domain import Application, ListQuery, Page
from hookd.services.context import Context
from hookd.services.errors import Conflict, NotFound
from hookd.store import applications as store

EDITABLE = ("name", "uid", "rate_limit", "metadata")
NULLABLE = ("uid", "rate_limit")


def not_found(app_id: str) -> NotFound:
    """The answer for an application that does not exist, or that the caller may not see."""
    return NotFound(f"application {app_id!r} not found")


async def require_app(conn: AsyncConnection, app_id: str) -> Application:
    app = await store.get_app(conn, app_id)
    if app is None:
        raise not_found(app_id)
    return app


def _uid_conflict(uid: str | None) -> Conflict:
    return Conflict(f"an application with uid {uid!r} already exists")


async def create_app(
    ctx: Context, fields: Mapping[str, Any], *, get_if_exists: bool = False
) -> tuple[Application, bool]:
    """Create an application; with ``get_if_exists`` return the one with the same uid instead."""
    now = ctx.clock()
    uid = fields.get("uid")
    try:
        async with ctx.db.write() as conn:
            if uid is not None:
                existing = await store.get_app(conn, uid)
                if existing is not None and existing.uid == uid:
                    if get_if_exists:
                        return existing, False
                    raise _uid_conflict(uid)
            app = new_app(fields, uid, now)
            await store.insert_app(conn, app)
    except IntegrityError as exc:
        raise _uid_conflict(uid) from exc
    return app, True


def new_app(fields: Mapping[str, Any], uid: str | None, now: datetime) -> Application:
    return Application(
        id=ids.new_id(ids.APPLICATION, now),
        uid=uid,
        name=fields["name"],
        rate_limit=fields.get("rate_limit"),
        metadata=dict(fields.get("metadata") or {}),
        created_at=now,
        updated_at=now,
    )


async def get_app(ctx: Context, app_id: str) -> Application:
    async with ctx.db.read() as conn:
        return await require_app(conn, app_id)


async def list_apps(ctx: Context, query: ListQuery) -> Page[Application]:
    async with ctx.db.read() as conn:
        return await store.list_apps(
            conn, iterator=query.iterator, limit=query.limit, descending=query.descending(False)
        )


async def update_app(
    ctx: Context, app_id: str, fields: Mapping[str, Any], *, replace: bool
) -> tuple[Application, bool]:
    """PUT (``replace``: unset fields reset; creates the app when missing) or PATCH."""
    now = ctx.clock()
    try:
        async with ctx.db.write() as conn:
            app = await store.get_app(conn, app_id)
            if app is None:
                if not replace:
                    raise not_found(app_id)
                created = new_app(fields, fields.get("uid") or app_id, now)
                await store.insert_app(conn, created)
                return created, True
            changes: dict[str, Any] = (
                {name: fields.get(name) for name in EDITABLE}
                if replace
                else {k: v for k, v in fields.items() if v is not None or k in NULLABLE}
            )
            if "metadata" in changes:
                changes["metadata"] = dict(changes["metadata"] or {})
            updated = dataclasses.replace(app, **changes, updated_at=now)
            await store.save_app(conn, updated)
    except IntegrityError as exc:
        raise _uid_conflict(fields.get("uid")) from exc
    return updated, False


async def delete_app(ctx: Context, app_id: str) -> None:
    """Delete an application with its endpoints, messages and attempts."""

    async def delete(conn: AsyncConnection) -> None:
        app = await require_app(conn, app_id)
        await store.delete_app(conn, app.id)

    await ctx.db.write_retrying(delete)
