"""The reads behind Svix's usage statistics: applications by id or uid, and the event types each
application's endpoints subscribe to. The counts themselves come from ``store.rollups``."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.store.applications import APP
from hookd.store.schema import applications, endpoints

a, e = applications.c, endpoints.c


async def apps_named(
    conn: AsyncConnection, names: Collection[str]
) -> dict[str, tuple[str, str | None]]:
    """Each of ``names`` (an application id or uid) that names an application: its (id, uid).
    An id wins over another application's uid, as everywhere."""
    if not names:
        return {}
    wanted = sorted(names)
    query = select(a.id, a.uid).where(a.kind == APP, or_(a.id.in_(wanted), a.uid.in_(wanted)))
    rows = (await conn.execute(query)).all()
    by_id = {row.id: (row.id, row.uid) for row in rows}
    by_uid = {row.uid: (row.id, row.uid) for row in rows if row.uid is not None}
    return {
        name: by_id.get(name) or by_uid[name] for name in wanted if name in by_id or name in by_uid
    }


async def app_uids(conn: AsyncConnection, app_ids: Collection[str]) -> dict[str, str | None]:
    """The uid of each of these applications (only Svix's applications: hookd's hidden ones,
    a source's or the operational webhooks', are left out)."""
    if not app_ids:
        return {}
    query = select(a.id, a.uid).where(a.kind == APP, a.id.in_(sorted(app_ids)))
    return {row.id: row.uid for row in (await conn.execute(query)).all()}


async def subscriptions(conn: AsyncConnection) -> dict[str, tuple[set[str], bool]]:
    """Per application with an enabled endpoint: the event types its endpoints name
    (``filterTypes``), and whether one of them takes every event type (no ``filterTypes``)."""
    query = (
        select(e.app_id, e.filter_types)
        .join(applications, a.id == e.app_id)
        .where(a.kind == APP, e.disabled.is_(False))
        .order_by(e.app_id)
    )
    found: dict[str, tuple[set[str], bool]] = {}
    for row in (await conn.execute(query)).all():
        named, catch_all = found.get(row.app_id, (set(), False))
        if row.filter_types is None:
            catch_all = True
        else:
            named |= set(row.filter_types)
        found[row.app_id] = (named, catch_all)
    return found
