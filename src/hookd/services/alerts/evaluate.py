"""One evaluation of the alert rules: observe, decide, write, and say what to notify.

Run by one process at a time, the holder of the ``alerts`` lease (``store.leases``): taking it
is the first write, and the evaluation's own writes start by renewing it (a fence: a process
that lost the lease while it read writes nothing). What is observed comes from the rolled-up
counters, endpoint state and an indexed ``MIN(next_attempt_at)`` (``store.alerts.signals``); what
each rule's issues become is decided by ``core.alerts.rules.decide``. The notices are returned, not
sent: the caller sends them once the changes are committed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hookd import ids
from hookd.core.alerts.rules import (
    AlertRule,
    Change,
    Issue,
    IssueStatus,
    Kind,
    Observation,
    decide,
    link,
    summary,
)
from hookd.services.alerts.notice import AlertNotice
from hookd.services.context import Context
from hookd.store import leases
from hookd.store.alerts import records as store
from hookd.store.alerts import signals
from hookd.store.codec import to_ms

LEASE = "alerts"

Signal = Callable[[AsyncConnection, AlertRule, int], Awaitable[list[Observation]]]
SIGNALS: Mapping[Kind, Signal] = {
    Kind.FAILURE_RATE: signals.failure_rates,
    Kind.OLDEST_DUE_AGE: signals.oldest_due,
    Kind.DUPLICATES: signals.duplicates,
    Kind.ENDPOINT_DISABLED: signals.disabled_endpoints,
    Kind.BREAKER_OPEN: signals.open_breakers,
    Kind.TRANSFORMATION_FAILURES: signals.transformation_failures,
}


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What an evaluation changed: the notices to send (each with its rule's channel ids)
    and how many issues are unresolved now."""

    notices: list[tuple[AlertNotice, tuple[str, ...]]] = field(default_factory=list)
    unresolved: int = 0


async def take_lease(ctx: Context, holder: str, lease_seconds: float) -> bool:
    """Take or renew the evaluator's lease. A process that sees another's lease still running
    only reads (no write transaction, so no turn on SQLite's write lock)."""
    now_ms = to_ms(ctx.clock())
    async with ctx.db.read() as conn:
        held = await leases.read(conn, LEASE)
    if held is not None and held[0] != holder and held[1] > now_ms:
        return False
    async with ctx.db.write() as conn:
        return await leases.take(conn, LEASE, holder, now_ms, now_ms + int(lease_seconds * 1000))


async def release_lease(ctx: Context, holder: str) -> None:
    async with ctx.db.write() as conn:
        await leases.release(conn, LEASE, holder)


async def evaluate(ctx: Context, holder: str, lease_seconds: float) -> Evaluation | None:
    """Evaluate every enabled rule once, if ``holder`` holds the lease (taken by
    ``take_lease``); None when it does not (any more)."""
    now = ctx.clock()
    now_ms = to_ms(now)
    async with ctx.db.read() as conn:
        rules = await store.enabled_rules(conn)
        issues = await store.unresolved_issues(conn)
        observed = {rule.id: await SIGNALS[rule.kind](conn, rule, now_ms) for rule in rules}
    changes = _changes(rules, issues, observed, now)
    opened = sum(change.action == "open" for change in changes)
    resolved = sum(change.action == "resolve" for change in changes)
    if not changes:
        return Evaluation([], len(issues))
    notices: list[tuple[AlertNotice, tuple[str, ...]]] = []
    async with ctx.db.write() as conn:
        fence_ms = to_ms(ctx.clock())
        if not await leases.holds(
            conn, LEASE, holder, fence_ms, fence_ms + int(lease_seconds * 1000)
        ):
            return None
        for change in changes:
            notices += await _apply(conn, ctx, change, now)
    return Evaluation(notices, len(issues) + opened - resolved)


def _changes(
    rules: list[AlertRule],
    issues: list[Issue],
    observed: Mapping[str, list[Observation]],
    now: datetime,
) -> list[Change]:
    """Each rule's decision for every subject it observed or has an unresolved issue for."""
    unresolved: dict[str, dict[str, Issue]] = defaultdict(dict)
    for issue in issues:
        unresolved[issue.rule_id][issue.subject] = issue
    changes = []
    for rule in rules:
        seen = {observation.subject: observation for observation in observed[rule.id]}
        open_issues = unresolved[rule.id]
        for subject in sorted(seen.keys() | open_issues.keys()):
            change = decide(rule, open_issues.get(subject), seen.get(subject), now)
            if change is not None:
                changes.append(change)
    return changes


async def _apply(
    conn: AsyncConnection, ctx: Context, change: Change, now: datetime
) -> list[tuple[AlertNotice, tuple[str, ...]]]:
    """Write ``change``; the notices it sends (none when a person resolved the issue
    meanwhile)."""
    rule, issue, observation = change.rule, change.issue, change.observation
    now_ms = to_ms(now)
    values: dict[str, Any] = {"updated_at": now_ms}
    if observation is not None:
        values |= {
            "value": observation.value,
            "threshold": rule.threshold,
            "summary": summary(rule, observation),
            "cleared_at": None,
        }
    if change.escalate:
        values["escalated_at"] = now_ms
    if change.action == "open":
        assert observation is not None
        issue_id = ids.new_id(ids.ALERT_ISSUE, now)
        await store.insert_issue(
            conn,
            values
            | {
                "id": issue_id,
                "rule_id": rule.id,
                "subject": change.subject,
                "app_id": change.app_id,
                "kind": rule.kind.value,
                "scope": rule.scope.value,
                "status": IssueStatus.OPEN.value,
                "peak_value": observation.value,
                "opened_at": now_ms,
            },
        )
    else:
        assert issue is not None
        issue_id = issue.id
        if change.action == "update":
            assert observation is not None
            values["peak_value"] = max(issue.peak_value, observation.value)
        elif change.action == "clear":
            values["cleared_at"] = now_ms
        else:  # resolve
            values |= {"status": IssueStatus.RESOLVED.value, "resolved_at": now_ms}
        if not await store.update_unresolved(conn, issue_id, values):
            return []
    if not change.events:
        return []
    issue_summary = values.get("summary") or (issue.summary if issue else "")
    opened_at = issue.opened_at if issue else now
    resolved_at = now if change.action == "resolve" else None
    return [
        (
            AlertNotice(
                event=event,
                issue_id=issue_id,
                rule_id=rule.id,
                rule_name=rule.name,
                kind=rule.kind.value,
                summary=issue_summary,
                scope=rule.scope.value,
                affected=(change.subject,),
                opened_at=opened_at,
                resolved_at=resolved_at,
                link=link(rule.kind, change.subject, change.app_id, ctx.settings.public_url),
            ),
            rule.channels,
        )
        for event in change.events
    ]
