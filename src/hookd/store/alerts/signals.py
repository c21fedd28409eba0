"""What the alert rules watch, read cheaply: the rolled-up counters, endpoint state and health,
and an indexed ``MIN(next_attempt_at)`` for the oldest due delivery. Never a scan of attempts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.core.alerts.rules import AlertRule, Observation, Scope
from hookd.core.rollups import MINUTE_MS, minute_of
from hookd.store import rollups
from hookd.store.schema import deliveries, endpoint_state, endpoints

e, s, d = endpoints.c, endpoint_state.c, deliveries.c
# A literal status, so the planner uses the partial indexes on due rows (status = 1).
DUE = text("deliveries.status = 1")


def _scoped(query: Select[Any], rule: AlertRule) -> Select[Any]:
    """Endpoints in the rule's scope (a source's: its forwarding endpoints)."""
    if rule.scope in (Scope.APPLICATION, Scope.SOURCE):
        return query.where(e.app_id == rule.scope_id)
    if rule.scope == Scope.ENDPOINT:
        return query.where(e.id == rule.scope_id)
    return query


def _window(rule: AlertRule, now_ms: int) -> tuple[int, int]:
    """[since, until) of the counters a windowed rule sums: the minutes from the one holding
    ``now - window`` to the current one."""
    return minute_of(now_ms - rule.window_minutes * MINUTE_MS), minute_of(now_ms) + MINUTE_MS


async def _endpoint_sums(
    conn: AsyncConnection, rule: AlertRule, now_ms: int, counters: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    since, until = _window(rule, now_ms)
    return await rollups.endpoint_sums(
        conn,
        since,
        until,
        endpoint_ids=[rule.scope_id] if rule.scope == Scope.ENDPOINT and rule.scope_id else None,
        app_id=rule.scope_id if rule.scope in (Scope.APPLICATION, Scope.SOURCE) else None,
        counters=counters,
    )


async def failure_rates(conn: AsyncConnection, rule: AlertRule, now_ms: int) -> list[Observation]:
    """Each endpoint's failed share of its attempts over the window, in percent."""
    sums = await _endpoint_sums(conn, rule, now_ms, ("success", "fail"))
    observed = []
    for endpoint_id, row in sums.items():
        volume = int(row["success"]) + int(row["fail"])
        if volume:
            rate = 100.0 * int(row["fail"]) / volume
            observed.append(Observation(endpoint_id, row["app_id"], rate, volume))
    return observed


async def transformation_failures(
    conn: AsyncConnection, rule: AlertRule, now_ms: int
) -> list[Observation]:
    sums = await _endpoint_sums(conn, rule, now_ms, ("transform_failures",))
    return [
        Observation(endpoint_id, row["app_id"], float(row["transform_failures"]))
        for endpoint_id, row in sums.items()
        if row["transform_failures"]
    ]


async def duplicates(conn: AsyncConnection, rule: AlertRule, now_ms: int) -> list[Observation]:
    since, until = _window(rule, now_ms)
    source_id = rule.scope_id if rule.scope == Scope.SOURCE else None
    sums = await rollups.source_sums(conn, since, until, source_id=source_id)
    return [
        Observation(source, None, float(row["duplicate"]))
        for source, row in sums.items()
        if row["duplicate"]
    ]


async def disabled_endpoints(
    conn: AsyncConnection, rule: AlertRule, now_ms: int
) -> list[Observation]:
    query = _scoped(select(e.id, e.app_id).where(e.disabled.is_(True)), rule)
    return [Observation(row.id, row.app_id, 1.0) for row in (await conn.execute(query)).all()]


async def open_breakers(conn: AsyncConnection, rule: AlertRule, now_ms: int) -> list[Observation]:
    """Endpoints whose circuit is open: how long (seconds) their failing streak has lasted."""
    query = _scoped(
        select(e.id, e.app_id, s.first_failure_at)
        .join(endpoint_state, s.endpoint_id == e.id)
        .where(s.open_until.is_not(None), s.first_failure_at.is_not(None), e.disabled.is_(False)),
        rule,
    )
    return [
        Observation(row.id, row.app_id, max(0.0, (now_ms - row.first_failure_at) / 1000))
        for row in (await conn.execute(query)).all()
    ]


async def oldest_due(conn: AsyncConnection, rule: AlertRule, now_ms: int) -> list[Observation]:
    """Endpoints whose oldest due delivery has waited at least the threshold: seconds waited.

    First the oldest due delivery of all (one read of the ``ix_deliveries_due`` index): when it
    has not waited that long, no endpoint's has. Otherwise each endpoint's oldest (one read of
    ``ix_deliveries_endpoint_due`` per endpoint in scope)."""
    late_ms = now_ms - int(rule.threshold * 1000)
    oldest = (await conn.execute(select(func.min(d.next_attempt_at)).where(DUE))).scalar()
    if oldest is None or oldest > late_ms:
        return []
    first_due = (
        select(d.next_attempt_at)
        .where(d.endpoint_id == e.id, DUE)
        .order_by(d.next_attempt_at)
        .limit(1)
        .scalar_subquery()
    )
    query = _scoped(select(e.id, e.app_id, first_due.label("first_due")), rule)
    return [
        Observation(row.id, row.app_id, (now_ms - row.first_due) / 1000)
        for row in (await conn.execute(query)).all()
        if row.first_due is not None and row.first_due <= late_ms
    ]
