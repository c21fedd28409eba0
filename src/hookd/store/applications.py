"""Applications: the tenants messages are sent on behalf of."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert, Select, delete, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.core.domain import Application, Page
from hookd.store.codec import from_ms, to_ms
from hookd.store.pages import paginate
from hookd.store.schema import applications


def _app(row: Row[Any]) -> Application:
    m = row._mapping
    return Application(
        id=m["id"],
        uid=m["uid"],
        name=m["name"],
        rate_limit=m["rate_limit"],
        metadata=dict(m["meta"] or {}),
        created_at=from_ms(m["created_at"]),
        updated_at=from_ms(m["updated_at"]),
    )


def _values(app: Application) -> dict[str, Any]:
    return {
        "id": app.id,
        "uid": app.uid,
        "name": app.name,
        "rate_limit": app.rate_limit,
        "meta": app.metadata,
        "created_at": to_ms(app.created_at),
        "updated_at": to_ms(app.updated_at),
    }


# "source": the application of an inbound source; "operational": where hookd's own operational
# webhooks go; "alert": the endpoints of webhook alert channels. All are hidden from the
# application list.
APP, SOURCE, OPERATIONAL, ALERT = "app", "source", "operational", "alert"


def app_insert(app: Application, kind: str = APP) -> Insert:
    """Any ``kind`` but "app" hides the application from the list."""
    return insert(applications).values({**_values(app), "kind": kind})


async def insert_app(conn: AsyncConnection, app: Application, *, kind: str = APP) -> None:
    await conn.execute(app_insert(app, kind))


async def save_app(conn: AsyncConnection, app: Application) -> None:
    await conn.execute(update(applications).where(applications.c.id == app.id).values(_values(app)))


def app_lookup(id_or_uid: str) -> Select[Any]:
    """The rows :func:`pick_app` chooses from."""
    return select(applications).where(
        or_(applications.c.id == id_or_uid, applications.c.uid == id_or_uid)
    )


def pick_app(rows: Sequence[Row[Any]], id_or_uid: str) -> Application | None:
    """By id, or by uid when no id matches."""
    by_id = [row for row in rows if row._mapping["id"] == id_or_uid]
    chosen = by_id or rows
    return _app(chosen[0]) if chosen else None


async def get_app(conn: AsyncConnection, id_or_uid: str) -> Application | None:
    """By id, or by uid when no id matches."""
    return pick_app((await conn.execute(app_lookup(id_or_uid))).all(), id_or_uid)


async def delete_app(conn: AsyncConnection, app_id: str) -> None:
    await conn.execute(delete(applications).where(applications.c.id == app_id))


async def list_apps(
    conn: AsyncConnection, *, iterator: str | None, limit: int, descending: bool
) -> Page[Application]:
    return await paginate(
        conn,
        select(applications).where(applications.c.kind == APP),
        applications.c.id,
        _app,
        iterator=iterator,
        limit=limit,
        descending=descending,
    )
