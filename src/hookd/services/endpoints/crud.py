"""Endpoint operations: CRUD, secrets and rotation, custom headers, recovery, stats."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd import ids
from hookd.core.domain import (
    BackgroundTask,
    DeliveryStatus,
    Endpoint,
    EndpointHealth,
    EndpointStats,
    ListQuery,
    OldSecret,
    Page,
)
from hookd.core.masking import MaskedSecretError, kept_url
from hookd.core.signing import (
    SignatureError,
    generate_hmac_secret,
    generate_secret_like,
    parse_signing_key,
)
from hookd.core.ssrf import Network
from hookd.core.urls import url_host_refusal, url_problem
from hookd.services import background_tasks
from hookd.services.applications import require_app
from hookd.services.calls.settings import call_fields
from hookd.services.context import Context
from hookd.services.endpoints.rules import checked_rules
from hookd.services.errors import Conflict, Invalid, NotFound
from hookd.services.operational import endpoint_changed
from hookd.store import deliveries
from hookd.store import endpoint_health as health_store
from hookd.store import endpoints as store
from hookd.store.codec import to_ms

EDITABLE = (
    "url",
    "description",
    "uid",
    "disabled",
    "filter_types",
    "channels",
    "rate_limit",
    "metadata",
    "version",
    "thin",
    "filter",
    "transformation",
    "fifo",
    "batch_size",
    "batch_max_wait_ms",
    "trace_context",
)
NULLABLE = (
    "uid",
    "filter_types",
    "channels",
    "rate_limit",
    "version",
    "filter",
    "transformation",
    "batch_size",
    "batch_max_wait_ms",
)
DEFAULT_GRACE = timedelta(hours=24)
MAX_GRACE = timedelta(days=7)
MAX_OLD_SECRETS = 10
MAX_CHANNELS = 10
# Headers hookd sets itself; an endpoint's custom headers may not replace them.
RESERVED_HEADERS = frozenset(
    {"host", "content-length", "content-type", "transfer-encoding", "connection", "user-agent"}
)
RESERVED_HEADER_PREFIXES = ("webhook-", "svix-")
# Shown by name only when headers are read back.
SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", "api-key", "x-auth-token"}
)
HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


async def require_endpoint(conn: AsyncConnection, app_id: str, endpoint_id: str) -> Endpoint:
    endpoint = await store.get_endpoint(conn, app_id, endpoint_id)
    if endpoint is None:
        raise NotFound(f"endpoint {endpoint_id!r} not found")
    return endpoint


def _check_secret(secret: str) -> str:
    try:
        parse_signing_key(secret)
    except SignatureError as exc:
        raise Invalid(f"secret: {exc}", loc=("body", "secret")) from exc
    return secret


def check_headers(headers: Mapping[str, str], loc: str = "headers") -> dict[str, str]:
    """Validate custom header names and values; raise Invalid naming the first bad one."""
    for name, value in headers.items():
        lower = name.lower()
        if not HEADER_NAME.match(name):
            raise Invalid(f"{name!r} is not a valid header name", loc=("body", loc, name))
        if lower in RESERVED_HEADERS or lower.startswith(RESERVED_HEADER_PREFIXES):
            raise Invalid(
                f"header {name!r} is set by hookd and cannot be overridden", loc=("body", loc, name)
            )
        if "\r" in value or "\n" in value:
            raise Invalid(f"header {name!r} has a line break in its value", loc=("body", loc, name))
    return dict(headers)


def _kept_url(fields: Mapping[str, Any], stored: str | None) -> Mapping[str, Any]:
    """``fields`` with a URL sent back masked replaced by the stored one (a masked password
    that is not the stored one's mask is refused)."""
    url = fields.get("url")
    if not isinstance(url, str):
        return fields
    try:
        return {**fields, "url": kept_url(url, stored)}
    except MaskedSecretError as exc:
        raise Invalid(str(exc), loc=("body", "url")) from exc


def _check_fields(
    fields: Mapping[str, Any], allow: tuple[Network, ...], own: tuple[str, int] | None = None
) -> None:
    if "url" in fields:
        problem = url_problem(fields["url"])
        if problem:
            raise Invalid(problem, loc=("body", "url"))
        refusal = url_host_refusal(fields["url"], allow, own)
        if refusal:
            raise Invalid(refusal, loc=("body", "url"), code="url_not_allowed")
    if fields.get("filter_types") is not None and not fields["filter_types"]:
        raise Invalid(
            "filterTypes needs at least one event type (omit it for all)",
            loc=("body", "filterTypes"),
        )
    channels = fields.get("channels")
    if channels is not None and not 1 <= len(channels) <= MAX_CHANNELS:
        raise Invalid(
            f"channels needs 1 to {MAX_CHANNELS} entries (omit it for all)",
            loc=("body", "channels"),
        )
    if fields.get("version") is not None and fields["version"] < 1:
        raise Invalid("version must be 1 or more", loc=("body", "version"))
    if fields.get("rate_limit") is not None and fields["rate_limit"] < 1:
        raise Invalid("rateLimit must be 1 or more messages per second", loc=("body", "rateLimit"))


def _tuple(values: Any) -> tuple[str, ...] | None:
    return None if values is None else tuple(dict.fromkeys(values))


def _new_endpoint(
    app_id: str,
    fields: Mapping[str, Any],
    now: datetime,
    allow: tuple[Network, ...],
    own: tuple[str, int] | None = None,
) -> Endpoint:
    fields = _kept_url(fields, None)
    _check_fields(fields, allow, own)
    secret = fields.get("secret")
    return Endpoint(
        id=ids.new_id(ids.ENDPOINT, now),
        app_id=app_id,
        uid=fields.get("uid"),
        url=fields["url"],
        description=fields.get("description") or "",
        version=fields.get("version"),
        disabled=bool(fields.get("disabled")),
        filter_types=_tuple(fields.get("filter_types")),
        channels=_tuple(fields.get("channels")),
        rate_limit=fields.get("rate_limit"),
        metadata=dict(fields.get("metadata") or {}),
        headers=check_headers(fields.get("headers") or {}),
        secret=_check_secret(secret) if secret else generate_hmac_secret(),
        old_secrets=(),
        created_at=now,
        updated_at=now,
        **call_fields(fields, None),
        thin=bool(fields.get("thin")),
        filter=fields.get("filter"),
        transformation=fields.get("transformation"),
        fifo=bool(fields.get("fifo")),
        batch_size=fields.get("batch_size"),
        batch_max_wait_ms=fields.get("batch_max_wait_ms"),
        trace_context=fields.get("trace_context") is not False,
    )


def _uid_conflict(uid: Any) -> Conflict:
    return Conflict(f"an endpoint with uid {uid!r} already exists in this application")


async def create_endpoint(ctx: Context, app_id: str, fields: Mapping[str, Any]) -> Endpoint:
    fields = await checked_rules(fields, ctx)
    now = ctx.clock()
    try:
        async with ctx.db.write() as conn:
            app = await require_app(conn, app_id)
            endpoint = _new_endpoint(
                app.id, fields, now, ctx.settings.networks, ctx.settings.own_address
            )
            await store.insert_endpoint(conn, endpoint)
            await endpoint_changed(conn, app, None, endpoint, now)
    except IntegrityError as exc:
        raise _uid_conflict(fields.get("uid")) from exc
    return endpoint


async def get_endpoint(ctx: Context, app_id: str, endpoint_id: str) -> Endpoint:
    async with ctx.db.read() as conn:
        app = await require_app(conn, app_id)
        return await require_endpoint(conn, app.id, endpoint_id)


async def list_endpoints(ctx: Context, app_id: str, query: ListQuery) -> Page[Endpoint]:
    async with ctx.db.read() as conn:
        app = await require_app(conn, app_id)
        return await store.list_endpoints(
            conn,
            app.id,
            iterator=query.iterator,
            limit=query.limit,
            descending=query.descending(False),
        )


async def update_endpoint(
    ctx: Context, app_id: str, endpoint_id: str, fields: Mapping[str, Any], *, replace: bool
) -> tuple[Endpoint, bool]:
    """PUT (``replace``; creates the endpoint when missing) or PATCH."""
    fields = await checked_rules(fields, ctx)
    now = ctx.clock()
    try:
        async with ctx.db.write() as conn:
            app = await require_app(conn, app_id)
            endpoint = await store.get_endpoint(conn, app.id, endpoint_id)
            if endpoint is None:
                if not replace:
                    raise NotFound(f"endpoint {endpoint_id!r} not found")
                created = _new_endpoint(
                    app.id,
                    {"uid": endpoint_id, **fields},
                    now,
                    ctx.settings.networks,
                    ctx.settings.own_address,
                )
                await store.insert_endpoint(conn, created)
                await endpoint_changed(conn, app, None, created, now)
                return created, True
            fields = _kept_url(fields, endpoint.url)
            _check_fields(fields, ctx.settings.networks, ctx.settings.own_address)
            if replace:
                changes: dict[str, Any] = {name: fields.get(name) for name in EDITABLE}
                changes["description"] = changes["description"] or ""
                changes["disabled"] = bool(changes["disabled"])
                changes["thin"] = bool(changes["thin"])
                changes["fifo"] = bool(changes["fifo"])
                changes["trace_context"] = changes["trace_context"] is not False
            else:
                # PATCH: a field sent as null keeps its value unless null means something.
                changes = {
                    k: v
                    for k, v in fields.items()
                    if k in EDITABLE and (v is not None or k in NULLABLE)
                }
            for key in ("filter_types", "channels"):
                if key in changes:
                    changes[key] = _tuple(changes[key])
            if "metadata" in changes:
                changes["metadata"] = dict(changes["metadata"] or {})
            if "headers" in fields and fields["headers"] is not None:
                changes["headers"] = check_headers(fields["headers"])
            changes.update(call_fields(fields, endpoint))
            updated = dataclasses.replace(endpoint, **changes, updated_at=now)
            await store.save_endpoint(conn, updated)
            if endpoint.disabled and not updated.disabled:
                await health_store.reset_health(conn, endpoint.id)  # a fresh start
            await endpoint_changed(conn, app, endpoint, updated, now)
    except IntegrityError as exc:
        raise _uid_conflict(fields.get("uid")) from exc
    return updated, False


async def delete_endpoint(ctx: Context, app_id: str, endpoint_id: str) -> None:
    async def delete(conn: AsyncConnection) -> None:
        app = await require_app(conn, app_id)
        endpoint = await require_endpoint(conn, app.id, endpoint_id)
        await store.delete_endpoint(conn, endpoint.id)
        await endpoint_changed(conn, app, endpoint, None, ctx.clock())

    await ctx.db.write_retrying(delete)


async def rotate_secret(
    ctx: Context,
    app_id: str,
    endpoint_id: str,
    *,
    key: str | None,
    grace_period_seconds: int | None,
) -> Endpoint:
    """New secret; the old one keeps co-signing for the grace period (default 24 h).

    Without ``key`` the new secret has the old one's type (``whsk_`` stays Ed25519)."""
    now = ctx.clock()
    grace = (
        DEFAULT_GRACE if grace_period_seconds is None else timedelta(seconds=grace_period_seconds)
    )
    if not timedelta(0) <= grace <= MAX_GRACE:
        raise Invalid(
            "gracePeriodSeconds must be between 0 and 604800", loc=("body", "gracePeriodSeconds")
        )
    given = _check_secret(key) if key else None
    async with ctx.db.write() as conn:
        app = await require_app(conn, app_id)
        endpoint = await require_endpoint(conn, app.id, endpoint_id)
        new_secret = given or generate_secret_like(endpoint.secret)
        kept = [old for old in endpoint.old_secrets if old.expires_at > now]
        if grace > timedelta(0):
            kept.append(OldSecret(endpoint.secret, now + grace))
        kept = sorted(kept, key=lambda old: old.expires_at)[-MAX_OLD_SECRETS:]
        updated = dataclasses.replace(
            endpoint, secret=new_secret, old_secrets=tuple(kept), updated_at=now
        )
        await store.save_endpoint(conn, updated)
        await endpoint_changed(conn, app, endpoint, updated, now)
    return updated


async def set_headers(
    ctx: Context,
    app_id: str,
    endpoint_id: str,
    headers: Mapping[str, str],
    *,
    replace: bool,
    delete: list[str] | None = None,
) -> Endpoint:
    """Replace (PUT) or merge (PATCH, with ``deleteHeaders``) an endpoint's custom headers."""
    now = ctx.clock()
    check_headers(headers)
    async with ctx.db.write() as conn:
        app = await require_app(conn, app_id)
        endpoint = await require_endpoint(conn, app.id, endpoint_id)
        merged = dict(headers) if replace else {**endpoint.headers, **headers}
        drop = {name.lower() for name in delete or ()}
        merged = {name: value for name, value in merged.items() if name.lower() not in drop}
        updated = dataclasses.replace(endpoint, headers=merged, updated_at=now)
        await store.save_endpoint(conn, updated)
        await endpoint_changed(conn, app, endpoint, updated, now)
    return updated


async def recover(
    ctx: Context, app_id: str, endpoint_id: str, *, since: datetime, until: datetime | None
) -> BackgroundTask:
    """Queue every failed delivery to this endpoint since ``since`` for another round.

    Runs at once; the finished task (``data.messagesSent``) is recorded in the same transaction.
    """
    now = ctx.clock()
    if until is not None and until <= since:
        raise Invalid("until must be after since", loc=("body", "until"))
    async with ctx.db.write() as conn:
        app = await require_app(conn, app_id)
        endpoint = await require_endpoint(conn, app.id, endpoint_id)
        count = await deliveries.rearm(
            conn,
            endpoint_id=endpoint.id,
            now_ms=to_ms(now),
            statuses=(DeliveryStatus.FAIL,),
            since_msg_id=ids.floor_id(ids.MESSAGE, since),
            until_msg_id=ids.floor_id(ids.MESSAGE, until),
        )
        task = await background_tasks.record(
            conn, background_tasks.RECOVER, app.id, {"messagesSent": count}, now
        )
    if count:
        ctx.wake_worker()
    return task


async def endpoint_health(
    ctx: Context, app_id: str, endpoint_id: str
) -> tuple[Endpoint, EndpointHealth]:
    async with ctx.db.read() as conn:
        app = await require_app(conn, app_id)
        endpoint = await require_endpoint(conn, app.id, endpoint_id)
        return endpoint, await health_store.endpoint_health(conn, endpoint.id)


async def endpoint_stats(
    ctx: Context, app_id: str, endpoint_id: str, *, since: datetime | None, until: datetime | None
) -> EndpointStats:
    async with ctx.db.read() as conn:
        app = await require_app(conn, app_id)
        endpoint = await require_endpoint(conn, app.id, endpoint_id)
        return await store.endpoint_stats(
            conn,
            endpoint.id,
            ids.floor_id(ids.MESSAGE, since),
            ids.floor_id(ids.MESSAGE, until),
        )
