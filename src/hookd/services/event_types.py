"""Event type operations: the catalogue, with JSON Schemas per payload version."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import SchemaError

from hookd.core.access import flagged_visible
from hookd.core.domain import EventType, ListQuery, Page
from hookd.services.context import Context
from hookd.services.errors import Conflict, Invalid, NotFound
from hookd.store import event_types as store

NAME = re.compile(r"^[a-zA-Z0-9\-_.]{1,256}$")
EDITABLE = ("description", "archived", "deprecated", "schemas", "feature_flags", "group_name")


def _check_schemas(schemas: Mapping[str, Any] | None) -> None:
    for version, schema in (schemas or {}).items():
        if not (version.isascii() and version.isdigit()) or int(version) < 1:
            raise Invalid(
                f"schema version {version!r} is not a positive integer",
                loc=("body", "schemas", version),
            )
        try:
            Draft7Validator.check_schema(schema)
        except SchemaError as exc:
            raise Invalid(
                f"schema {version}: {exc.message}", loc=("body", "schemas", version)
            ) from exc


async def _require(conn: Any, name: str) -> EventType:
    found = await store.get_event_type(conn, name)
    if found is None:
        raise NotFound(f"event type {name!r} not found")
    return found


async def create_event_type(ctx: Context, fields: Mapping[str, Any]) -> EventType:
    """Create an event type; creating one that was archived brings it back."""
    name = fields["name"]
    if not NAME.match(name):
        raise Invalid(
            "event type names use letters, digits, '-', '_' and '.'", loc=("body", "name")
        )
    _check_schemas(fields.get("schemas"))
    now = ctx.clock()
    event_type = EventType(
        name=name,
        description=fields.get("description") or "",
        schemas=fields.get("schemas"),
        archived=bool(fields.get("archived")),
        deprecated=bool(fields.get("deprecated")),
        feature_flags=tuple(fields.get("feature_flags") or ()),
        group_name=fields.get("group_name"),
        created_at=now,
        updated_at=now,
    )
    async with ctx.db.write() as conn:
        existing = await store.get_event_type(conn, name)
        if existing is None:
            await store.insert_event_type(conn, event_type)
        elif existing.archived:
            event_type = dataclasses.replace(event_type, created_at=existing.created_at)
            await store.save_event_type(conn, event_type)
        else:
            raise Conflict(f"event type {name!r} already exists")
    return event_type


async def get_event_type(
    ctx: Context, name: str, *, feature_flags: frozenset[str] | None = None
) -> EventType:
    """The event type; with ``feature_flags`` (an app portal token's), only one it may see."""
    async with ctx.db.read() as conn:
        found = await _require(conn, name)
    if not flagged_visible(found.feature_flags, feature_flags):
        raise NotFound(f"event type {name!r} not found")
    return found


async def list_event_types(
    ctx: Context,
    query: ListQuery,
    *,
    include_archived: bool,
    feature_flags: frozenset[str] | None = None,
) -> Page[EventType]:
    """A page of event types; with ``feature_flags``, those a holder of them sees only (the page
    may be shorter than ``limit``, its iterators are those of the whole list)."""
    async with ctx.db.read() as conn:
        page = await store.list_event_types(
            conn,
            iterator=query.iterator,
            limit=query.limit,
            descending=query.descending(False),
            include_archived=include_archived,
        )
    if feature_flags is None:
        return page
    shown = [et for et in page.items if flagged_visible(et.feature_flags, feature_flags)]
    return dataclasses.replace(page, items=shown)


async def update_event_type(
    ctx: Context, name: str, fields: Mapping[str, Any], *, replace: bool
) -> tuple[EventType, bool]:
    """PUT (``replace``; creates when missing) or PATCH."""
    _check_schemas(fields.get("schemas"))
    now = ctx.clock()
    async with ctx.db.write() as conn:
        existing = await store.get_event_type(conn, name)
        if existing is not None:
            if replace:
                changes: dict[str, Any] = {key: fields.get(key) for key in EDITABLE}
                changes["description"] = changes["description"] or ""
                changes["archived"] = bool(changes["archived"])
                changes["deprecated"] = bool(changes["deprecated"])
            else:
                changes = {
                    key: value
                    for key, value in fields.items()
                    if key in EDITABLE and (value is not None or key in ("schemas", "group_name"))
                }
            if "feature_flags" in changes:
                changes["feature_flags"] = tuple(changes["feature_flags"] or ())
            updated = dataclasses.replace(existing, **changes, updated_at=now)
            await store.save_event_type(conn, updated)
            return updated, False
    if not replace:
        raise NotFound(f"event type {name!r} not found")
    return await create_event_type(ctx, {**fields, "name": name}), True


async def archive_event_type(ctx: Context, name: str) -> None:
    """Delete is soft: the type is archived and can be brought back by creating it again."""
    now = ctx.clock()
    async with ctx.db.write() as conn:
        existing = await _require(conn, name)
        await store.save_event_type(
            conn, dataclasses.replace(existing, archived=True, updated_at=now)
        )
