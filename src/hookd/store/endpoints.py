"""Endpoints: where an application's messages are delivered."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import delete, false, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.core.domain import (
    DeliveryStatus,
    Endpoint,
    EndpointStats,
    EndpointTransformation,
    OldSecret,
    Page,
)
from hookd.store.arrays import in_list
from hookd.store.call_columns import (
    auth_from_row,
    call_settings_from_row,
    call_values,
    tls_from_row,
)
from hookd.store.codec import from_ms, opt_tuple, to_ms
from hookd.store.pages import paginate
from hookd.store.schema import deliveries, endpoints
from hookd.store.sealing import open_json, open_text, seal_json, seal_text

# Sealed columns (store.sealing): the signing secrets and the custom header values.
SECRET, OLD_SECRETS, HEADERS = "endpoints.secret", "endpoints.old_secrets", "endpoints.headers"


def endpoint_from_row(row: Row[Any]) -> Endpoint:
    m = row._mapping
    return Endpoint(
        id=m["id"],
        app_id=m["app_id"],
        uid=m["uid"],
        url=m["url"],
        description=m["description"],
        version=m["version"],
        disabled=bool(m["disabled"]),
        filter_types=opt_tuple(m["filter_types"]),
        channels=opt_tuple(m["channels"]),
        rate_limit=m["rate_limit"],
        metadata=dict(m["meta"] or {}),
        headers=dict(open_json(m["headers"], HEADERS) or {}),
        secret=open_text(m["secret"], SECRET),
        old_secrets=tuple(
            OldSecret(item["secret"], from_ms(item["expires_at"]))
            for item in open_json(m["old_secrets"], OLD_SECRETS)
        ),
        created_at=from_ms(m["created_at"]),
        updated_at=from_ms(m["updated_at"]),
        call=call_settings_from_row(m),
        auth=auth_from_row(m),
        tls=tls_from_row(m),
        thin=bool(m["thin"]),
        filter=m["filter"],
        transformation=_transformation(m["transformation"]),
        fifo=bool(m["fifo"]),
        batch_size=m["batch_size"],
        batch_max_wait_ms=m["batch_max_wait_ms"],
        trace_context=bool(m["trace_context"]),
    )


def _transformation(stored: dict[str, Any] | None) -> EndpointTransformation | None:
    if stored is None:
        return None
    return EndpointTransformation(code=stored["code"], enabled=bool(stored["enabled"]))


def _values(ep: Endpoint) -> dict[str, Any]:
    return {
        "id": ep.id,
        "app_id": ep.app_id,
        "uid": ep.uid,
        "url": ep.url,
        "description": ep.description,
        "version": ep.version,
        "disabled": ep.disabled,
        "filter_types": None if ep.filter_types is None else list(ep.filter_types),
        "channels": None if ep.channels is None else list(ep.channels),
        "rate_limit": ep.rate_limit,
        "meta": ep.metadata,
        "headers": seal_json(ep.headers, HEADERS),
        "secret": seal_text(ep.secret, SECRET),
        "old_secrets": seal_json(
            [{"secret": old.secret, "expires_at": to_ms(old.expires_at)} for old in ep.old_secrets],
            OLD_SECRETS,
        ),
        "created_at": to_ms(ep.created_at),
        "updated_at": to_ms(ep.updated_at),
        **call_values(ep),
        "thin": ep.thin,
        "filter": ep.filter,
        "transformation": None
        if ep.transformation is None
        else {"code": ep.transformation.code, "enabled": ep.transformation.enabled},
        "fifo": ep.fifo,
        "batch_size": ep.batch_size,
        "batch_max_wait_ms": ep.batch_max_wait_ms,
        "trace_context": ep.trace_context,
    }


async def insert_endpoint(conn: AsyncConnection, ep: Endpoint) -> None:
    await conn.execute(insert(endpoints).values(_values(ep)))


async def save_endpoint(conn: AsyncConnection, ep: Endpoint) -> None:
    await conn.execute(update(endpoints).where(endpoints.c.id == ep.id).values(_values(ep)))


async def get_endpoint(conn: AsyncConnection, app_id: str, id_or_uid: str) -> Endpoint | None:
    """By id, or by uid when no id matches, within one application."""
    query = select(endpoints).where(
        endpoints.c.app_id == app_id, or_(endpoints.c.id == id_or_uid, endpoints.c.uid == id_or_uid)
    )
    rows = (await conn.execute(query)).all()
    by_id = [row for row in rows if row._mapping["id"] == id_or_uid]
    chosen = by_id or rows
    return endpoint_from_row(chosen[0]) if chosen else None


async def app_endpoints(conn: AsyncConnection, app_id: str) -> list[Endpoint]:
    rows = (await conn.execute(select(endpoints).where(endpoints.c.app_id == app_id))).all()
    return [endpoint_from_row(row) for row in rows]


async def endpoints_with_url(conn: AsyncConnection, url: str) -> list[Endpoint]:
    """Every endpoint of every application whose URL is ``url`` (a relay's: few, rarely read;
    no index)."""
    rows = (await conn.execute(select(endpoints).where(endpoints.c.url == url))).all()
    return [endpoint_from_row(row) for row in rows]


async def endpoints_by_id(conn: AsyncConnection, ids: list[str]) -> dict[str, Endpoint]:
    return await conn.run_sync(lambda sync: read_endpoints(sync, ids))


def read_endpoints(conn: Connection, ids: list[str]) -> dict[str, Endpoint]:
    """These endpoints (those that exist); synchronous (see ``messages.read_messages``)."""
    if not ids:
        return {}
    rows = conn.execute(_read_endpoints(conn.dialect.name), {"ids": ids}).all()
    return {row._mapping["id"]: endpoint_from_row(row) for row in rows}


@lru_cache(maxsize=4)
def _read_endpoints(dialect: str) -> Any:
    # Built once per dialect: every claim round runs it (one statement text on PostgreSQL).
    return select(endpoints).where(in_list(endpoints.c.id, "ids", dialect))


async def delete_endpoint(conn: AsyncConnection, endpoint_id: str) -> None:
    await conn.execute(delete(endpoints).where(endpoints.c.id == endpoint_id))


def disable_endpoints(conn: Connection, ids: list[str], now_ms: int) -> dict[str, str]:
    """Disable these endpoints; return those that were enabled (id: app id). Synchronous: part
    of the worker's flush (``Database.run_write``)."""
    if not ids:
        return {}
    c = endpoints.c
    enabled = select(c.id, c.app_id).where(c.id.in_(ids), c.disabled == false())
    flipped: dict[str, str] = {row.id: row.app_id for row in conn.execute(enabled)}
    if flipped:
        query = (
            update(endpoints)
            .where(c.id.in_(sorted(flipped)))
            .values(disabled=True, updated_at=now_ms)
        )
        conn.execute(query)
    return flipped


async def list_endpoints(
    conn: AsyncConnection, app_id: str, *, iterator: str | None, limit: int, descending: bool
) -> Page[Endpoint]:
    return await paginate(
        conn,
        select(endpoints).where(endpoints.c.app_id == app_id),
        endpoints.c.id,
        endpoint_from_row,
        iterator=iterator,
        limit=limit,
        descending=descending,
    )


async def endpoint_stats(
    conn: AsyncConnection, endpoint_id: str, since_id: str | None, until_id: str | None
) -> EndpointStats:
    """Counts of this endpoint's messages by delivery status (optionally within a time range)."""
    delivery = deliveries.c
    query = (
        select(delivery.status, func.count())
        .where(delivery.endpoint_id == endpoint_id)
        .group_by(delivery.status)
    )
    if since_id:
        query = query.where(delivery.msg_id >= since_id)
    if until_id:
        query = query.where(delivery.msg_id < until_id)
    counts = {DeliveryStatus(status): n for status, n in (await conn.execute(query)).all()}
    return EndpointStats(
        success=counts.get(DeliveryStatus.SUCCESS, 0),
        pending=counts.get(DeliveryStatus.PENDING, 0),
        sending=counts.get(DeliveryStatus.SENDING, 0),
        fail=counts.get(DeliveryStatus.FAIL, 0),
        canceled=counts.get(DeliveryStatus.CANCELED, 0),
    )
