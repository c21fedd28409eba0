"""/api/v1/alert/rule and /api/v1/alert/issue: alert rules and the issues they open (hookd).

The channels a rule notifies live under /api/v1/alert/channel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from hookd.api.alerts.models import (
    AlertIssueOut,
    AlertIssuePatch,
    AlertRuleIn,
    AlertRuleOut,
    AlertRulePatch,
    IssueStatus,
)
from hookd.api.alerts.serialize import issue_out, rule_out
from hookd.api.params import CtxDep, ListQueryDep
from hookd.api.send.models import ListResponse
from hookd.api.send.serialize import JSON, page_out
from hookd.core.alerts import rules as alerts
from hookd.core.alerts.rules import Issue
from hookd.services.alerts import issues, rules
from hookd.services.context import Context

router = APIRouter(prefix="/api/v1/alert", tags=["Alert"])


@router.get("/rule", response_model=ListResponse[AlertRuleOut], summary="List alert rules")
async def list_rules(ctx: CtxDep, paging: ListQueryDep) -> Response:
    page = await rules.list_rules(ctx, paging)
    return JSON(page_out(page, rule_out))


@router.post("/rule", response_model=AlertRuleOut, status_code=201, summary="Create an alert rule")
async def create_rule(ctx: CtxDep, body: AlertRuleIn) -> Response:
    rule = await rules.create_rule(ctx, body.fields_set())
    return JSON(rule_out(rule), status_code=201)


@router.get("/rule/{rule_id}", response_model=AlertRuleOut, summary="Get an alert rule")
async def get_rule(ctx: CtxDep, rule_id: str) -> Response:
    return JSON(rule_out(await rules.get_rule(ctx, rule_id)))


@router.put(
    "/rule/{rule_id}",
    response_model=AlertRuleOut,
    summary="Replace an alert rule (what is not sent takes its default)",
)
async def replace_rule(ctx: CtxDep, rule_id: str, body: AlertRuleIn) -> Response:
    rule = await rules.update_rule(ctx, rule_id, body.fields_set(), replace_all=True)
    return JSON(rule_out(rule))


@router.patch("/rule/{rule_id}", response_model=AlertRuleOut, summary="Change an alert rule")
async def patch_rule(ctx: CtxDep, rule_id: str, body: AlertRulePatch) -> Response:
    rule = await rules.update_rule(ctx, rule_id, body.fields_set(), replace_all=False)
    return JSON(rule_out(rule))


@router.delete("/rule/{rule_id}", status_code=204, summary="Delete an alert rule and its issues")
async def delete_rule(ctx: CtxDep, rule_id: str) -> Response:
    await rules.delete_rule(ctx, rule_id)
    return Response(status_code=204)


def _out(ctx: Context, issue: Issue) -> JSON:
    return JSON(issue_out(issue, ctx.settings.public_url))


@router.get(
    "/issue",
    response_model=ListResponse[AlertIssueOut],
    summary="List alert issues, newest first",
)
async def list_issues(
    ctx: CtxDep,
    paging: ListQueryDep,
    status: Annotated[list[IssueStatus] | None, Query()] = None,
    rule_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    page = await issues.list_issues(
        ctx,
        paging,
        statuses=[alerts.IssueStatus(value) for value in status] if status else None,
        rule_id=rule_id,
    )
    return JSON(page_out(page, lambda issue: issue_out(issue, ctx.settings.public_url)))


@router.get("/issue/{issue_id}", response_model=AlertIssueOut, summary="Get an alert issue")
async def get_issue(ctx: CtxDep, issue_id: str) -> Response:
    return _out(ctx, await issues.get_issue(ctx, issue_id))


@router.patch(
    "/issue/{issue_id}",
    response_model=AlertIssueOut,
    summary="Acknowledge, reopen or resolve an alert issue",
)
async def patch_issue(ctx: CtxDep, issue_id: str, body: AlertIssuePatch) -> Response:
    return _out(ctx, await issues.move_issue(ctx, issue_id, alerts.IssueStatus(body.status)))


@router.post(
    "/issue/{issue_id}/acknowledge",
    response_model=AlertIssueOut,
    summary="Acknowledge an alert issue",
)
async def acknowledge_issue(ctx: CtxDep, issue_id: str) -> Response:
    return _out(ctx, await issues.move_issue(ctx, issue_id, alerts.IssueStatus.ACKNOWLEDGED))


@router.post(
    "/issue/{issue_id}/resolve", response_model=AlertIssueOut, summary="Resolve an alert issue"
)
async def resolve_issue(ctx: CtxDep, issue_id: str) -> Response:
    return _out(ctx, await issues.move_issue(ctx, issue_id, alerts.IssueStatus.RESOLVED))
