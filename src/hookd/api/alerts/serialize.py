"""Alert rules and issues to JSON (``api.alerts.models``' shapes)."""

from __future__ import annotations

from typing import Any

from hookd.core.alerts.rules import AlertRule, Issue, link


def rule_out(rule: AlertRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "description": rule.description,
        "enabled": rule.enabled,
        "kind": rule.kind.value,
        "scope": rule.scope.value,
        "scopeId": rule.scope_id,
        "threshold": rule.threshold,
        "windowSeconds": rule.window_seconds,
        "minVolume": rule.min_volume,
        "escalateThreshold": rule.escalate_threshold,
        "escalateAfterSeconds": rule.escalate_after_seconds,
        "quietPeriodSeconds": rule.quiet_period_seconds,
        "channels": list(rule.channels),
        "createdAt": rule.created_at,
        "updatedAt": rule.updated_at,
    }


def issue_out(issue: Issue, base_url: str = "") -> dict[str, Any]:
    """An issue; ``base_url`` (HOOKD_PUBLIC_URL) makes its link a URL rather than a path."""
    return {
        "id": issue.id,
        "ruleId": issue.rule_id,
        "ruleName": issue.rule_name,
        "kind": issue.kind.value,
        "scope": issue.scope.value,
        "status": issue.status.value,
        "escalated": issue.escalated_at is not None,
        "value": issue.value,
        "peakValue": issue.peak_value,
        "threshold": issue.threshold,
        "summary": issue.summary,
        "affected": [issue.subject],
        "appId": issue.app_id,
        "link": link(issue.kind, issue.subject, issue.app_id, base_url),
        "openedAt": issue.opened_at,
        "acknowledgedAt": issue.acknowledged_at,
        "escalatedAt": issue.escalated_at,
        "clearedAt": issue.cleared_at,
        "resolvedAt": issue.resolved_at,
        "updatedAt": issue.updated_at,
    }
