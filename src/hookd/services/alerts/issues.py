"""Alert issues as people see and move them: list, get, acknowledge, reopen, resolve.

The evaluator (``services.alerts.evaluate``) opens, escalates and resolves issues; a person
acknowledges one (``open`` -> ``acknowledged``: someone is on it, it no longer escalates for
lasting), takes the acknowledgement back (-> ``open``), or resolves it. A resolved issue is
final: if its rule fires again for the same subject, a new issue opens.
"""

from __future__ import annotations

from typing import Any

from hookd.core.alerts.rules import Issue, IssueStatus
from hookd.core.domain import ListQuery, Page
from hookd.services.context import Context
from hookd.services.errors import Conflict, NotFound
from hookd.store.alerts import records as store
from hookd.store.codec import to_ms

OPEN, ACKNOWLEDGED, RESOLVED = IssueStatus.OPEN, IssueStatus.ACKNOWLEDGED, IssueStatus.RESOLVED
# Where each status may be reached from, by a person.
MOVES: dict[IssueStatus, tuple[IssueStatus, ...]] = {
    ACKNOWLEDGED: (OPEN,),
    OPEN: (ACKNOWLEDGED,),
    RESOLVED: (OPEN, ACKNOWLEDGED),
}


async def get_issue(ctx: Context, issue_id: str) -> Issue:
    async with ctx.db.read() as conn:
        issue = await store.get_issue(conn, issue_id)
    if issue is None:
        raise NotFound(f"alert issue {issue_id!r} not found")
    return issue


async def list_issues(
    ctx: Context,
    query: ListQuery,
    *,
    statuses: list[IssueStatus] | None,
    rule_id: str | None,
) -> Page[Issue]:
    """A page of issues, newest first unless ``query`` says otherwise."""
    async with ctx.db.read() as conn:
        return await store.list_issues(
            conn,
            statuses=statuses,
            rule_id=rule_id,
            iterator=query.iterator,
            limit=query.limit,
            descending=query.descending(True),
        )


async def move_issue(ctx: Context, issue_id: str, status: IssueStatus) -> Issue:
    """Set an issue's status as a person does; moving it where it already is changes nothing.
    A resolved issue stays resolved (409 ``issue_resolved``)."""
    now_ms = to_ms(ctx.clock())
    values: dict[str, Any] = {"status": status.value, "updated_at": now_ms}
    if status == ACKNOWLEDGED:
        values["acknowledged_at"] = now_ms
    elif status == OPEN:
        values["acknowledged_at"] = None
    else:
        values["resolved_at"] = now_ms
    async with ctx.db.write() as conn:
        moved = await store.move_issue(conn, issue_id, from_statuses=MOVES[status], values=values)
        issue = await store.get_issue(conn, issue_id)
    if issue is None:
        raise NotFound(f"alert issue {issue_id!r} not found")
    if not moved and issue.status != status:
        raise Conflict(
            f"alert issue {issue_id!r} is resolved; a new issue opens if it fires again",
            code="issue_resolved",
        )
    return issue
