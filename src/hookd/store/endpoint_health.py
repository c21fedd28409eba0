"""Endpoint health as stored: the circuit breaker's columns of ``endpoint_state``."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.core.breaker import Health
from hookd.core.domain import DeliveryStatus, EndpointHealth
from hookd.store.arrays import any_of
from hookd.store.codec import opt_from_ms, to_ms
from hookd.store.schema import deliveries, endpoint_state
from hookd.store.sqlite.statements import execute_many

state, delivery = endpoint_state.c, deliveries.c


def health_from_row(row: Any) -> Health:
    return Health(row.failures, opt_from_ms(row.first_failure_at), opt_from_ms(row.open_until))


def update_rows(conn: Connection, columns: Mapping[str, str], rows: list[dict[str, Any]]) -> None:
    """Update ``endpoint_state`` rows in one statement: ``b_id`` plus a parameter per column."""
    if rows:
        execute_many(conn, _update_statement(tuple(columns.items())), rows)


@lru_cache(maxsize=32)
def _update_statement(columns: tuple[tuple[str, str], ...]) -> Any:
    # Built once per column set: the flushes and claim rounds write these on every round.
    values: dict[str, Any] = {col: bindparam(param) for col, param in columns}
    return update(endpoint_state).where(state.endpoint_id == bindparam("b_id")).values(values)


async def probe_now(conn: AsyncConnection, endpoint_id: str, now_ms: int) -> None:
    """A manual resend or recover: an open circuit sends its probe now instead of later."""
    await conn.execute(
        update(endpoint_state)
        .where(state.endpoint_id == endpoint_id, state.open_until > now_ms)
        .values(open_until=now_ms)
    )


def load_health(conn: Connection, endpoint_ids: list[str]) -> dict[str, Health]:
    """The breaker state of these endpoints (locked for update on PostgreSQL)."""
    query = _LOAD_HEALTH_PG if conn.dialect.name == "postgresql" else _LOAD_HEALTH
    rows = conn.execute(query, {"ids": sorted(endpoint_ids)}).all()
    return {row.endpoint_id: health_from_row(row) for row in rows}


# Built once: every flush of the worker runs one.
_LOAD_HEALTH = select(endpoint_state).where(state.endpoint_id.in_(bindparam("ids", expanding=True)))
_LOAD_HEALTH_PG = (
    select(endpoint_state)
    .where(any_of(state.endpoint_id, "ids"))
    .order_by(state.endpoint_id)
    .with_for_update()
)


def save_health(conn: Connection, health: Mapping[str, Health]) -> None:
    update_rows(
        conn,
        {"failures": "b_failures", "first_failure_at": "b_first", "open_until": "b_open"},
        [
            {
                "b_id": endpoint_id,
                "b_failures": h.failures,
                "b_first": None if h.first_failure_at is None else to_ms(h.first_failure_at),
                "b_open": None if h.open_until is None else to_ms(h.open_until),
            }
            for endpoint_id, h in sorted(health.items())
        ],
    )


async def reset_health(conn: AsyncConnection, endpoint_id: str) -> None:
    """Forget an endpoint's failures (it was re-enabled)."""
    await conn.run_sync(save_health, {endpoint_id: Health()})


async def endpoint_health(conn: AsyncConnection, endpoint_id: str) -> EndpointHealth:
    row = (
        await conn.execute(select(endpoint_state).where(state.endpoint_id == endpoint_id))
    ).first()
    sending = select(func.count()).where(
        delivery.endpoint_id == endpoint_id, delivery.status == int(DeliveryStatus.SENDING)
    )
    in_flight = int((await conn.execute(sending)).scalar() or 0)
    if row is None:
        return EndpointHealth(Health(), in_flight, None)
    return EndpointHealth(health_from_row(row), in_flight, opt_from_ms(row.ready_at))


async def health_of(conn: AsyncConnection, endpoint_ids: list[str]) -> dict[str, Health]:
    """The breaker state of these endpoints, read only (a list page's badges: one query on the
    primary key); an endpoint without a row is healthy (it never had a delivery)."""
    if not endpoint_ids:
        return {}
    rows = (
        await conn.execute(
            select(endpoint_state).where(endpoint_state.c.endpoint_id.in_(endpoint_ids))
        )
    ).all()
    return {row.endpoint_id: health_from_row(row) for row in rows}
