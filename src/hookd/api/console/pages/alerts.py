"""Alerts: rules (list, create, edit, delete, every kind with its defaults), the issues they
open (by state; acknowledge, reopen, resolve; a link to the failing messages) and the channels
they notify (list, create, delete). Through the services the alert API uses."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from starlette.responses import Response

from hookd.api.console.forms import Form, field_errors, read_form
from hookd.api.console.render import NavItem, notice, page, page_links, see_other
from hookd.api.console.routing import console_router
from hookd.api.console.sessions import context
from hookd.core.alerts import channels as channel_rules
from hookd.core.alerts.channels import POSTED, WEBHOOK
from hookd.core.alerts.rules import (
    DEFAULT_QUIET_PERIOD_SECONDS,
    KINDS,
    MAX_SECONDS,
    MAX_WINDOW_SECONDS,
    MIN_WINDOW_SECONDS,
    AlertRule,
    Issue,
    IssueStatus,
    Kind,
    Scope,
    link,
)
from hookd.core.domain import ListQuery
from hookd.core.masking import mask_url
from hookd.services.alerts import channels as channel_service
from hookd.services.alerts import issues as issue_service
from hookd.services.alerts import rules as rule_service
from hookd.services.errors import Invalid, ServiceError

router = console_router()
NAV = NavItem("Alerts", "/console/alerts")
PAGE_SIZE = 50
CHANNELS_OFFERED = 250
RULE_CREATED = notice("rule-created", "Alert rule created.")
RULE_SAVED = notice("rule-saved", "Alert rule saved.")
RULE_DELETED = notice("rule-deleted", "Alert rule deleted, with its issues.")
MOVED = {
    IssueStatus.ACKNOWLEDGED: notice("issue-acknowledged", "Issue acknowledged."),
    IssueStatus.OPEN: notice("issue-reopened", "Issue open again."),
    IssueStatus.RESOLVED: notice("issue-resolved", "Issue resolved."),
}
CHANNEL_CREATED = notice("channel-created", "Alert channel created.")
CHANNEL_DELETED = notice("channel-deleted", "Alert channel deleted.")
UNITS = {
    "percent": "percent of attempts failed",
    "seconds": "seconds",
    "count": "a count",
    "flag": "1 (it is disabled)",
}
ISSUE_STATES = ("open", "acknowledged", "resolved")


def kind_table() -> list[dict[str, Any]]:
    """Each kind with its documented defaults (core.alerts.rules.KINDS)."""
    return [
        {
            "kind": kind.value,
            "unit": UNITS[spec.unit],
            "threshold": spec.threshold,
            "window": spec.window_seconds,
            "min_volume": spec.min_volume,
            "scopes": sorted(scope.value for scope in spec.scopes),
        }
        for kind, spec in KINDS.items()
    ]


def rule_fields(form: Form) -> dict[str, Any]:
    """The rule the form describes; an empty field takes the kind's default (the service's)."""
    name = form.text("name")
    if not name:
        raise Invalid("Name is required", loc=("form", "name"))
    kind = form.text("kind")
    if kind not in {k.value for k in Kind}:
        raise Invalid("Choose a kind", loc=("form", "kind"))
    scope = form.text("scope") or Scope.GLOBAL.value
    if scope not in {s.value for s in Scope}:
        raise Invalid("Choose a scope", loc=("form", "scope"))
    fields: dict[str, Any] = {
        "name": name,
        "description": form.get("description").strip(),
        "enabled": form.checked("enabled"),
        "kind": kind,
        "scope": scope,
        "scope_id": form.optional("scope_id") if scope != Scope.GLOBAL.value else None,
        "threshold": _number(form, "threshold", "Threshold"),
        "window_seconds": form.integer(
            "window_seconds",
            label="Window",
            minimum=MIN_WINDOW_SECONDS,
            maximum=MAX_WINDOW_SECONDS,
        ),
        "min_volume": form.integer("min_volume", label="Minimum volume", minimum=1),
        "escalate_threshold": _number(form, "escalate_threshold", "Escalate at"),
        "escalate_after_seconds": form.integer(
            "escalate_after_seconds", label="Escalate after", minimum=1, maximum=MAX_SECONDS
        ),
        "quiet_period_seconds": form.integer(
            "quiet_period_seconds", label="Quiet period", minimum=0, maximum=MAX_SECONDS
        ),
        "channels": form.getlist("channels"),
    }
    # A field left empty is not sent: the kind's default applies.
    return {key: value for key, value in fields.items() if value is not None}


def _number(form: Form, name: str, label: str) -> float | None:
    raw = form.text(name)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Invalid(f"{label} must be a number", loc=("form", name)) from None
    if not 0 < value <= 1e9:
        raise Invalid(f"{label} must be above 0 and at most 1000000000", loc=("form", name))
    return value


def rule_values(rule: AlertRule) -> dict[str, Any]:
    def shown(value: Any) -> Any:
        return "" if value is None else value

    return {
        "name": rule.name,
        "description": rule.description,
        "enabled": rule.enabled,
        "kind": rule.kind.value,
        "scope": rule.scope.value,
        "scope_id": shown(rule.scope_id),
        "threshold": f"{rule.threshold:g}",
        "window_seconds": shown(rule.window_seconds),
        "min_volume": shown(rule.min_volume),
        "escalate_threshold": ""
        if rule.escalate_threshold is None
        else f"{rule.escalate_threshold:g}",
        "escalate_after_seconds": shown(rule.escalate_after_seconds),
        "quiet_period_seconds": rule.quiet_period_seconds,
        "channels": list(rule.channels),
    }


def posted_rule_values(form: Form) -> dict[str, Any]:
    keys = (
        "name",
        "description",
        "kind",
        "scope",
        "scope_id",
        "threshold",
        "window_seconds",
        "min_volume",
        "escalate_threshold",
        "escalate_after_seconds",
        "quiet_period_seconds",
    )
    values: dict[str, Any] = {key: form.get(key) for key in keys}
    values["enabled"] = form.checked("enabled")
    values["channels"] = form.getlist("channels")
    return values


async def _channels(request: Request) -> list[Any]:
    found = await channel_service.list_channels(context(request), ListQuery(CHANNELS_OFFERED))
    return [view.channel for view in found.items]


async def _rule_form(
    request: Request,
    rule: AlertRule | None,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    status_code: int = 200,
) -> Response:
    return page(
        request,
        "alerts/rule_form.html",
        {
            "rule": rule,
            "values": values,
            "errors": errors,
            "kinds": kind_table(),
            "scopes": [s.value for s in Scope],
            "channels": await _channels(request),
            "quiet_default": DEFAULT_QUIET_PERIOD_SECONDS,
        },
        status_code=status_code,
        title="Alert rule",
    )


@router.get("/console/alerts")
async def list_rules(request: Request) -> Response:
    result = await rule_service.list_rules(
        context(request), ListQuery(PAGE_SIZE, request.query_params.get("iterator") or None)
    )
    previous, following = page_links(request, result)
    return page(
        request,
        "alerts/rules.html",
        {"rules": result.items, "previous": previous, "following": following},
        title="Alert rules",
    )


@router.get("/console/alerts/rules/new")
async def new_rule(request: Request) -> Response:
    values = {"enabled": True, "kind": Kind.FAILURE_RATE.value, "scope": "global", "channels": []}
    return await _rule_form(request, None, values, {})


@router.post("/console/alerts/rules/new")
async def create_rule(request: Request) -> Response:
    form = await read_form(request)
    try:
        await rule_service.create_rule(context(request), rule_fields(form))
    except ServiceError as exc:
        return await _rule_form(
            request,
            None,
            posted_rule_values(form),
            _form_errors(exc),
            status_code=exc.status_code,
        )
    return see_other("/console/alerts", notice_code=RULE_CREATED)


def _form_errors(exc: ServiceError) -> dict[str, str]:
    """The service names API fields (``scopeId``); the form's are snake_case."""
    errors = field_errors(exc)
    renamed = {
        "scopeId": "scope_id",
        "windowSeconds": "window_seconds",
        "minVolume": "min_volume",
        "escalateThreshold": "escalate_threshold",
    }
    return {renamed.get(key, key): value for key, value in errors.items()}


@router.get("/console/alerts/rules/{rule_id}")
async def edit_rule(request: Request, rule_id: str) -> Response:
    rule = await rule_service.get_rule(context(request), rule_id)
    return await _rule_form(request, rule, rule_values(rule), {})


@router.post("/console/alerts/rules/{rule_id}")
async def save_rule(request: Request, rule_id: str) -> Response:
    form = await read_form(request)
    ctx = context(request)
    rule = await rule_service.get_rule(ctx, rule_id)
    try:
        await rule_service.update_rule(ctx, rule_id, rule_fields(form), replace_all=True)
    except ServiceError as exc:
        return await _rule_form(
            request, rule, posted_rule_values(form), _form_errors(exc), status_code=exc.status_code
        )
    return see_other("/console/alerts", notice_code=RULE_SAVED)


@router.post("/console/alerts/rules/{rule_id}/delete")
async def delete_rule(request: Request, rule_id: str) -> Response:
    await rule_service.delete_rule(context(request), rule_id)
    return see_other("/console/alerts", notice_code=RULE_DELETED)


def issue_links(issue: Issue) -> tuple[str | None, str | None]:
    """Where the failing messages are: the console's message log filtered to the endpoint and
    the status that matters (endpoint subjects), and the API list (``core.alerts.rules.link``)."""
    console = None
    if issue.app_id is not None and issue.kind != Kind.DUPLICATES:
        status = "pending" if issue.kind == Kind.OLDEST_DUE_AGE else "fail"
        query = urlencode({"endpoint": issue.subject, "status": status})
        console = f"/console/apps/{issue.app_id}/messages?{query}"
    return console, link(issue.kind, issue.subject, issue.app_id)


@router.get("/console/alerts/issues")
async def list_issues(request: Request) -> Response:
    state = request.query_params.get("state", "unresolved")
    if state not in (*ISSUE_STATES, "unresolved"):
        state = "unresolved"
    statuses = (
        [IssueStatus.OPEN, IssueStatus.ACKNOWLEDGED]
        if state == "unresolved"
        else [IssueStatus(state)]
    )
    result = await issue_service.list_issues(
        context(request),
        ListQuery(PAGE_SIZE, request.query_params.get("iterator") or None),
        statuses=statuses,
        rule_id=None,
    )
    previous, following = page_links(request, result)
    return page(
        request,
        "alerts/issues.html",
        {
            "issues": [(issue, *issue_links(issue)) for issue in result.items],
            "state": state,
            "states": ("unresolved", *ISSUE_STATES),
            "previous": previous,
            "following": following,
        },
        title="Alert issues",
    )


@router.post("/console/alerts/issues/{issue_id}/{action}")
async def move_issue(request: Request, issue_id: str, action: str) -> Response:
    moves = {
        "acknowledge": IssueStatus.ACKNOWLEDGED,
        "reopen": IssueStatus.OPEN,
        "resolve": IssueStatus.RESOLVED,
    }
    if action not in moves:
        raise Invalid(f"no such action {action!r}", loc=("path", "action"))
    await issue_service.move_issue(context(request), issue_id, moves[action])
    state = (await read_form(request)).get("state", "unresolved")
    back = "/console/alerts/issues?state=" + (state if state in ISSUE_STATES else "unresolved")
    return see_other(back, notice_code=MOVED[moves[action]])


def channel_config(channel: Any, endpoint: Any) -> str:
    """What a channel sends to, secrets masked (as the API shows it)."""
    if channel.type in POSTED:
        return channel_rules.mask_secret_url(str(channel.config["url"]))
    if channel.type == WEBHOOK:
        return "—" if endpoint is None else mask_url(endpoint.url)
    return ", ".join(channel.config.get("to", ()))


@router.get("/console/alerts/channels")
async def list_channels(request: Request) -> Response:
    result = await channel_service.list_channels(
        context(request), ListQuery(PAGE_SIZE, request.query_params.get("iterator") or None)
    )
    previous, following = page_links(request, result)
    rows = [(view.channel, channel_config(view.channel, view.endpoint)) for view in result.items]
    return page(
        request,
        "alerts/channels.html",
        {
            "rows": rows,
            "types": channel_rules.TYPES,
            "values": {},
            "errors": {},
            "previous": previous,
            "following": following,
        },
        title="Alert channels",
    )


@router.post("/console/alerts/channels")
async def create_channel(request: Request) -> Response:
    form = await read_form(request)
    channel_type = form.text("type")
    target = form.text("target")
    config: dict[str, Any] = (
        {"to": form.words("target") or []} if channel_type == "email" else {"url": target}
    )
    try:
        await channel_service.create_channel(
            context(request), {"name": form.text("name"), "type": channel_type, "config": config}
        )
    except ServiceError as exc:
        result = await channel_service.list_channels(context(request), ListQuery(PAGE_SIZE))
        rows = [(v.channel, channel_config(v.channel, v.endpoint)) for v in result.items]
        return page(
            request,
            "alerts/channels.html",
            {
                "rows": rows,
                "types": channel_rules.TYPES,
                "values": {"name": form.get("name"), "type": channel_type, "target": ""},
                "errors": field_errors(exc),
                "previous": None,
                "following": None,
            },
            status_code=exc.status_code,
            title="Alert channels",
        )
    return see_other("/console/alerts/channels", notice_code=CHANNEL_CREATED)


@router.post("/console/alerts/channels/{channel_id}/delete")
async def delete_channel(request: Request, channel_id: str) -> Response:
    await channel_service.delete_channel(context(request), channel_id)
    return see_other("/console/alerts/channels", notice_code=CHANNEL_DELETED)
