"""Alert rules and their issues (``core.alerts.rules``), as stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.core.alerts.rules import AlertRule, Issue, IssueStatus, Kind, Scope
from hookd.core.domain import Page
from hookd.store.codec import from_ms, opt_from_ms, to_ms
from hookd.store.pages import paginate
from hookd.store.schema import alert_issues, alert_rules

r, i = alert_rules.c, alert_issues.c
RESOLVED = IssueStatus.RESOLVED.value


def rule_from_row(row: Row[Any]) -> AlertRule:
    m = row._mapping
    return AlertRule(
        id=m["id"],
        name=m["name"],
        description=m["description"],
        enabled=m["enabled"],
        kind=Kind(m["kind"]),
        scope=Scope(m["scope"]),
        scope_id=m["scope_id"],
        threshold=m["threshold"],
        window_seconds=m["window_seconds"],
        min_volume=m["min_volume"],
        escalate_threshold=m["escalate_threshold"],
        escalate_after_seconds=m["escalate_after_seconds"],
        quiet_period_seconds=m["quiet_period_seconds"],
        channels=tuple(m["channels"]),
        created_at=from_ms(m["created_at"]),
        updated_at=from_ms(m["updated_at"]),
    )


def _rule_values(rule: AlertRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "description": rule.description,
        "enabled": rule.enabled,
        "kind": rule.kind.value,
        "scope": rule.scope.value,
        "scope_id": rule.scope_id,
        "threshold": rule.threshold,
        "window_seconds": rule.window_seconds,
        "min_volume": rule.min_volume,
        "escalate_threshold": rule.escalate_threshold,
        "escalate_after_seconds": rule.escalate_after_seconds,
        "quiet_period_seconds": rule.quiet_period_seconds,
        "channels": list(rule.channels),
        "updated_at": to_ms(rule.updated_at),
    }


async def insert_rule(conn: AsyncConnection, rule: AlertRule) -> None:
    values = _rule_values(rule) | {"id": rule.id, "created_at": to_ms(rule.created_at)}
    await conn.execute(insert(alert_rules).values(values))


async def update_rule(conn: AsyncConnection, rule: AlertRule) -> None:
    await conn.execute(update(alert_rules).where(r.id == rule.id).values(_rule_values(rule)))


async def get_rule(conn: AsyncConnection, rule_id: str) -> AlertRule | None:
    row = (await conn.execute(select(alert_rules).where(r.id == rule_id))).first()
    return rule_from_row(row) if row else None


async def rules_naming_channel(conn: AsyncConnection, channel_id: str) -> list[tuple[str, str]]:
    """The rules (id, name) that notify ``channel_id``, oldest first. Rules are few: their
    channel lists are read and searched here, the same way on SQLite and PostgreSQL."""
    rows = await conn.execute(select(r.id, r.name, r.channels).order_by(r.id))
    return [(row.id, row.name) for row in rows if channel_id in (row.channels or ())]


async def delete_rule(conn: AsyncConnection, rule_id: str) -> bool:
    """Delete a rule and its issues (ON DELETE CASCADE); False when there was none."""
    result = await conn.execute(delete(alert_rules).where(r.id == rule_id))
    return bool(result.rowcount)


async def list_rules(
    conn: AsyncConnection, *, iterator: str | None, limit: int, descending: bool
) -> Page[AlertRule]:
    return await paginate(
        conn,
        select(alert_rules),
        r.id,
        rule_from_row,
        iterator=iterator,
        limit=limit,
        descending=descending,
    )


async def enabled_rules(conn: AsyncConnection) -> list[AlertRule]:
    query = select(alert_rules).where(r.enabled.is_(True)).order_by(r.id)
    return [rule_from_row(row) for row in (await conn.execute(query)).all()]


def issue_from_row(row: Row[Any]) -> Issue:
    m = row._mapping
    return Issue(
        id=m["id"],
        rule_id=m["rule_id"],
        rule_name=m["rule_name"],
        subject=m["subject"],
        app_id=m["app_id"],
        kind=Kind(m["kind"]),
        scope=Scope(m["scope"]),
        status=IssueStatus(m["status"]),
        value=m["value"],
        peak_value=m["peak_value"],
        threshold=m["threshold"],
        summary=m["summary"],
        opened_at=from_ms(m["opened_at"]),
        acknowledged_at=opt_from_ms(m["acknowledged_at"]),
        escalated_at=opt_from_ms(m["escalated_at"]),
        cleared_at=opt_from_ms(m["cleared_at"]),
        resolved_at=opt_from_ms(m["resolved_at"]),
        updated_at=from_ms(m["updated_at"]),
    )


def _issues() -> Select[Any]:
    """Issues with their rule's name."""
    return select(alert_issues, r.name.label("rule_name")).join(alert_rules, r.id == i.rule_id)


async def get_issue(conn: AsyncConnection, issue_id: str) -> Issue | None:
    row = (await conn.execute(_issues().where(i.id == issue_id))).first()
    return issue_from_row(row) if row else None


async def list_issues(
    conn: AsyncConnection,
    *,
    statuses: list[IssueStatus] | None,
    rule_id: str | None,
    iterator: str | None,
    limit: int,
    descending: bool,
) -> Page[Issue]:
    query = _issues()
    if statuses:
        query = query.where(i.status.in_([status.value for status in statuses]))
    if rule_id is not None:
        query = query.where(i.rule_id == rule_id)
    return await paginate(
        conn, query, i.id, issue_from_row, iterator=iterator, limit=limit, descending=descending
    )


async def unresolved_issues(conn: AsyncConnection) -> list[Issue]:
    query = _issues().where(i.status != RESOLVED).order_by(i.id)
    return [issue_from_row(row) for row in (await conn.execute(query)).all()]


async def count_unresolved(conn: AsyncConnection) -> int:
    query = select(func.count()).select_from(alert_issues).where(i.status != RESOLVED)
    return int((await conn.execute(query)).scalar_one())


async def insert_issue(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await conn.execute(insert(alert_issues).values(values))


async def update_unresolved(conn: AsyncConnection, issue_id: str, values: dict[str, Any]) -> bool:
    """Change an issue that is still unresolved; False when it is not (resolved meanwhile)."""
    result = await conn.execute(
        update(alert_issues).where(i.id == issue_id, i.status != RESOLVED).values(values)
    )
    return bool(result.rowcount)


async def move_issue(
    conn: AsyncConnection,
    issue_id: str,
    *,
    from_statuses: tuple[IssueStatus, ...],
    values: dict[str, Any],
) -> bool:
    """Change an issue's status (``values``) if it is in one of ``from_statuses``."""
    result = await conn.execute(
        update(alert_issues)
        .where(i.id == issue_id, i.status.in_([status.value for status in from_statuses]))
        .values(values)
    )
    return bool(result.rowcount)


def _resolved_before(cut_ms: int) -> Select[Any]:
    return select(i.id).where(i.status == RESOLVED, i.resolved_at < cut_ms)


async def delete_resolved_before(conn: AsyncConnection, cut_ms: int, limit: int) -> int:
    """Resolved issues resolved before ``cut_ms`` (the stats retention), ``limit`` at most."""
    batch = _resolved_before(cut_ms).order_by(i.id).limit(limit)
    result = await conn.execute(delete(alert_issues).where(i.id.in_(batch.scalar_subquery())))
    return int(result.rowcount)


async def count_resolved_before(conn: AsyncConnection, cut_ms: int) -> int:
    query = select(func.count()).select_from(_resolved_before(cut_ms).subquery())
    return int((await conn.execute(query)).scalar_one())
