"""Alert rules: create, read, change, delete; each checked whole before it is stored.

A rule is built from the fields a caller sent over what is stored (PATCH) or nothing (create,
PUT): the kind's defaults (``core.alerts.rules.KINDS``) fill what is left, its scope is resolved to
the id of what it watches, and its channels must exist (a channel a rule names cannot be
deleted: ``services.alerts.channels.delete_channel``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hookd import ids
from hookd.core.alerts.rules import (
    DEFAULT_QUIET_PERIOD_SECONDS,
    KINDS,
    AlertRule,
    Kind,
    Scope,
    check_rule,
)
from hookd.core.domain import ListQuery, Page
from hookd.services.context import Context
from hookd.services.errors import Invalid, NotFound
from hookd.store import applications as app_store
from hookd.store import endpoints as endpoint_store
from hookd.store.alerts import channels as channel_store
from hookd.store.alerts import records as store
from hookd.store.ingest import sources as source_store

# The fields whose meaning depends on the kind: a PATCH that changes the kind starts them over
# from the new kind's defaults unless it sends them too.
KIND_FIELDS = ("threshold", "window_seconds", "min_volume", "escalate_threshold")


async def _missing_channels(conn: AsyncConnection, wanted: Collection[str]) -> list[str]:
    """The channel ids among ``wanted`` that name no alert channel. Those found are locked
    against deletion until the rule is saved (``services.alerts.channels.delete_channel``
    refuses to delete a channel a rule names)."""
    if not wanted:
        return []
    found = await channel_store.channels_by_id(conn, sorted(wanted), share=True)
    return sorted(set(wanted) - found.keys())


def _invalid(field: str, detail: str, code: str = "validation") -> Invalid:
    return Invalid(detail, loc=("body", field), code=code)


async def _scope_id(conn: AsyncConnection, scope: Scope, given: str | None) -> str | None:
    """The id of what the rule watches (an application or source may be named by uid)."""
    if scope == Scope.GLOBAL or given is None:
        return given
    found: str | None = None
    if scope == Scope.APPLICATION:
        app = await app_store.get_app(conn, given)
        found = app.id if app else None
    elif scope == Scope.ENDPOINT:
        endpoint = (await endpoint_store.endpoints_by_id(conn, [given])).get(given)
        found = endpoint.id if endpoint else None
    else:
        source = await source_store.get_source(conn, given)
        found = source.id if source else None
    if found is None:
        raise _invalid("scopeId", f"no {scope} {given!r}", code="unknown_scope")
    return found


def _defaults(kind: Kind) -> dict[str, Any]:
    spec = KINDS[kind]
    return {
        "name": None,
        "description": "",
        "enabled": True,
        "kind": kind,
        "scope": Scope.GLOBAL,
        "scope_id": None,
        "threshold": spec.threshold,
        "window_seconds": spec.window_seconds,
        "min_volume": spec.min_volume,
        "escalate_threshold": None,
        "escalate_after_seconds": None,
        "quiet_period_seconds": DEFAULT_QUIET_PERIOD_SECONDS,
        "channels": (),
    }


def _merged(fields: Mapping[str, Any], base: AlertRule | None) -> dict[str, Any]:
    """The rule's fields: those sent, over the stored rule's (PATCH), over the kind's
    defaults. A field sent as null takes its default."""
    kind = Kind(fields.get("kind") or (base.kind if base else Kind.FAILURE_RATE))
    defaults = _defaults(kind)
    values = dict(defaults)
    if base is not None:
        values.update({name: getattr(base, name) for name in values})
        if base.kind != kind:
            values.update({name: defaults[name] for name in KIND_FIELDS})
    for name, value in fields.items():
        if name in values:
            values[name] = defaults[name] if value is None else value
    values["kind"], values["scope"] = kind, Scope(values["scope"])
    return values


async def _build(
    conn: AsyncConnection,
    fields: Mapping[str, Any],
    base: AlertRule | None,
    identity: tuple[str, datetime | None],
    ctx: Context,
) -> AlertRule:
    """The rule ``fields`` make over ``base`` (None: over the defaults), checked whole;
    ``identity``: its id and creation time (None: now)."""
    values = _merged(fields, base)
    kind: Kind = values["kind"]
    spec = KINDS[kind]
    if values["name"] is None:
        raise _invalid("name", "a rule needs a name")
    if spec.window_seconds is None and fields.get("window_seconds") is not None:
        raise _invalid("windowSeconds", f"a {kind} rule is not measured over a window")
    if spec.min_volume is None and fields.get("min_volume") is not None:
        raise _invalid("minVolume", "minVolume applies to failure_rate rules only")
    broken = check_rule(
        kind,
        values["scope"],
        values["scope_id"],
        float(values["threshold"]),
        values["window_seconds"],
        values["escalate_threshold"],
    )
    if broken is not None:
        raise _invalid(*broken)
    channels = tuple(dict.fromkeys(values["channels"]))  # once each, in the order given
    missing = await _missing_channels(conn, channels)
    if missing:
        raise _invalid("channels", f"no alert channel {', '.join(missing)}", code="unknown_channel")
    now = ctx.clock()
    rule_id, created_at = identity
    return AlertRule(
        id=rule_id,
        name=values["name"],
        description=values["description"],
        enabled=bool(values["enabled"]),
        kind=kind,
        scope=values["scope"],
        scope_id=await _scope_id(conn, values["scope"], values["scope_id"]),
        threshold=float(values["threshold"]),
        window_seconds=values["window_seconds"],
        min_volume=values["min_volume"],
        escalate_threshold=values["escalate_threshold"],
        escalate_after_seconds=values["escalate_after_seconds"],
        quiet_period_seconds=int(values["quiet_period_seconds"]),
        channels=channels,
        created_at=created_at or now,
        updated_at=now,
    )


async def create_rule(ctx: Context, fields: Mapping[str, Any]) -> AlertRule:
    async with ctx.db.write() as conn:
        rule_id = ids.new_id(ids.ALERT_RULE, ctx.clock())
        rule = await _build(conn, fields, None, (rule_id, None), ctx)
        await store.insert_rule(conn, rule)
    return rule


async def _require(conn: AsyncConnection, rule_id: str) -> AlertRule:
    rule = await store.get_rule(conn, rule_id)
    if rule is None:
        raise NotFound(f"alert rule {rule_id!r} not found")
    return rule


async def get_rule(ctx: Context, rule_id: str) -> AlertRule:
    async with ctx.db.read() as conn:
        return await _require(conn, rule_id)


async def list_rules(ctx: Context, query: ListQuery) -> Page[AlertRule]:
    """A page of rules, oldest first unless ``query`` says otherwise."""
    async with ctx.db.read() as conn:
        return await store.list_rules(
            conn, iterator=query.iterator, limit=query.limit, descending=query.descending(False)
        )


async def update_rule(
    ctx: Context, rule_id: str, fields: Mapping[str, Any], *, replace_all: bool
) -> AlertRule:
    """PUT (``replace_all``: what is not sent takes its default) or PATCH a rule. Its issues
    stay: the next evaluation applies the new settings to them."""
    async with ctx.db.write() as conn:
        stored = await _require(conn, rule_id)
        base = None if replace_all else stored
        rule = await _build(conn, fields, base, (stored.id, stored.created_at), ctx)
        await store.update_rule(conn, rule)
    return rule


async def delete_rule(ctx: Context, rule_id: str) -> None:
    """Delete a rule with its issues (open ones too: nothing is notified)."""
    async with ctx.db.write() as conn:
        if not await store.delete_rule(conn, rule_id):
            raise NotFound(f"alert rule {rule_id!r} not found")
