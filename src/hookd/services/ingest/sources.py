"""Inbound source operations: create, read, update, delete, rotate the ingest URL token.

A source owns one application (kind "source", same id) whose endpoints are its forwarding
endpoints, so delivery, retries, attempts, resend and recover work on ingested messages as is.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd import ids
from hookd.core.domain import Application, ListQuery, Page, Source, StaticResponse
from hookd.core.masking import MaskedSecretError, kept_config
from hookd.core.providers import PROVIDERS, ConfigError, Verifier, parse_verifier
from hookd.core.providers.registry import SOURCE_TYPES, provider_response
from hookd.core.providers.relay import RELAY
from hookd.core.providers.request_bin import BIN
from hookd.services.context import Context
from hookd.services.errors import Conflict, Invalid, NotFound
from hookd.services.ingest.source_cache import forget
from hookd.services.ingest.source_types import not_built_in_message
from hookd.store import applications as app_store
from hookd.store.ingest import sources as store

# With Svix's `generic-webhook` type, `config.provider` picks any hookd provider: the only
# way the Svix SDKs (whose `type` is a closed list) can create e.g. a Twilio or Discord source.
PROVIDER_FIELD = "provider"
NOT_BUILT_IN_CODE = "source_type_not_built_in"
TOKEN_BYTES = 24


def default_response(provider: str) -> StaticResponse:
    return provider_response(provider)


def answer_for(source: Source) -> StaticResponse:
    """The configured static response, else the provider's default."""
    return source.response or default_response(source.provider)


def resolve(source_type: str, config: Mapping[str, Any]) -> tuple[str, Verifier]:
    """The hookd provider a Svix source type and config map to, and the parsed source.

    Raises :class:`Invalid` naming the offending field.
    """
    rest = dict(config)
    if source_type == "generic-webhook" and PROVIDER_FIELD in rest:
        provider = rest.pop(PROVIDER_FIELD)
        if not isinstance(provider, str) or provider not in PROVIDERS:
            known = ", ".join(sorted(PROVIDERS))
            raise Invalid(
                f"provider must be one of {known}", loc=("body", "config", PROVIDER_FIELD)
            )
    elif source_type in PROVIDERS:
        provider = source_type
    elif source_type in SOURCE_TYPES:
        provider = SOURCE_TYPES[source_type]
    elif (message := not_built_in_message(source_type)) is not None:
        raise Invalid(message, loc=("body", "type"), code=NOT_BUILT_IN_CODE)
    else:
        raise Invalid(
            f"source type {source_type!r} is not supported by hookd; use one of "
            f"{', '.join(sorted({*PROVIDERS, *SOURCE_TYPES}))}",
            loc=("body", "type"),
        )
    try:
        return provider, parse_verifier(provider, rest)
    except ConfigError as exc:
        raise Invalid(exc.message, loc=("body", "config", exc.field)) from exc


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def ingest_url(ctx: Context, source: Source) -> str:
    return f"{ctx.settings.effective_public_url}/in/{source.token}"


def _response(fields: Mapping[str, Any]) -> StaticResponse | None:
    raw = fields.get("response")
    if raw is None:
        return None
    body = raw["body"]
    return StaticResponse(raw["status_code"], raw.get("content_type"), body.encode("utf-8"))


def _config(fields: Mapping[str, Any], stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """The config to save: secrets sent back masked keep their stored values."""
    try:
        return kept_config(fields.get("config") or {}, stored)
    except MaskedSecretError as exc:
        raise Invalid(str(exc), loc=("body", "config", exc.args[1])) from exc


def _new_source(fields: Mapping[str, Any], uid: str | None, now: datetime) -> Source:
    config = _config(fields, None)
    provider, _ = resolve(fields["type"], config)
    return Source(
        id=ids.new_id(ids.SOURCE, now),
        uid=uid,
        name=fields["name"],
        type=fields["type"],
        provider=provider,
        config=config,
        token=new_token(),
        metadata=dict(fields.get("metadata") or {}),
        response=_response(fields),
        dedup_window_seconds=fields.get("dedup_window_seconds"),
        created_at=now,
        updated_at=now,
    )


def _app_of(source: Source) -> Application:
    # The source's uid stays on the source: application uids share one namespace with apps.
    return Application(
        id=source.id,
        uid=None,
        name=source.name,
        rate_limit=None,
        metadata=source.metadata,
        created_at=source.created_at,
        updated_at=source.updated_at,
    )


def _uid_conflict(uid: Any) -> Conflict:
    return Conflict(f"a source with uid {uid!r} already exists")


async def require_source(conn: AsyncConnection, source_id: str) -> Source:
    source = await store.get_source(conn, source_id)
    if source is None:
        raise NotFound(f"source {source_id!r} not found")
    return source


async def _insert(conn: AsyncConnection, source: Source) -> None:
    await app_store.insert_app(conn, _app_of(source), kind=app_store.SOURCE)
    await store.insert_source(conn, source)


async def create_source(ctx: Context, fields: Mapping[str, Any]) -> Source:
    now = ctx.clock()
    source = _new_source(fields, fields.get("uid"), now)
    try:
        async with ctx.db.write() as conn:
            if source.uid is not None and await store.get_source(conn, source.uid):
                raise _uid_conflict(source.uid)
            await _insert(conn, source)
    except IntegrityError as exc:
        raise _uid_conflict(source.uid) from exc
    forget(ctx.db)
    return source


async def get_source(ctx: Context, source_id: str) -> Source:
    async with ctx.db.read() as conn:
        return await require_source(conn, source_id)


# Sources of hookd's own kinds: listed by their own APIs (/api/v1/bin, /api/v1/relay), not by
# the Ingest API, whose clients (the svix SDK) know only Svix's source types.
HOOKD_TYPES = (BIN, RELAY)


def check_not_relay(fields: Mapping[str, Any]) -> None:
    """Refuse a relay (as the type, or as a generic webhook's provider): made through the
    Ingest API it would have no listener endpoint; ``hookd listen`` makes relays. (A bin may
    be made there, with an ``allowedIps`` list /api/v1/bin does not take: docs/bins.md.)"""
    config = fields.get("config") or {}
    if RELAY in (fields["type"], config.get("provider")):
        raise Invalid(
            "sources of type 'relay' are made by hookd listen (/api/v1/relay), with their "
            "listener endpoint, not by the Ingest API",
            loc=("body", "type"),
        )


async def list_sources(
    ctx: Context, query: ListQuery, *, svix_types_only: bool = False
) -> Page[Source]:
    """A page of sources; ``svix_types_only``: without bins and relays (the Ingest API's)."""
    async with ctx.db.read() as conn:
        return await store.list_sources(
            conn,
            iterator=query.iterator,
            limit=query.limit,
            descending=query.descending(False),
            leave_out=HOOKD_TYPES if svix_types_only else (),
        )


async def upsert_source(
    ctx: Context, source_id: str, fields: Mapping[str, Any]
) -> tuple[Source, bool]:
    """PUT: replace the source's settings (token kept), or create it with ``source_id`` as uid."""
    now = ctx.clock()
    try:
        async with ctx.db.write() as conn:
            existing = await store.get_source(conn, source_id)
            if existing is None:
                created = _new_source(fields, fields.get("uid") or source_id, now)
                await _insert(conn, created)
                return created, True
            config = _config(fields, existing.config)
            provider, _ = resolve(fields["type"], config)
            updated = dataclasses.replace(
                existing,
                uid=fields.get("uid"),
                name=fields["name"],
                type=fields["type"],
                provider=provider,
                config=config,
                metadata=dict(fields.get("metadata") or {}),
                response=_response(fields),
                dedup_window_seconds=fields.get("dedup_window_seconds"),
                updated_at=now,
            )
            await store.save_source(conn, updated)
            await app_store.save_app(conn, _app_of(updated))
    except IntegrityError as exc:
        raise _uid_conflict(fields.get("uid")) from exc
    finally:
        forget(ctx.db)
    return updated, False


async def delete_source(ctx: Context, source_id: str) -> None:
    """Delete the source with its application, endpoints, messages and request records."""

    async def delete(conn: AsyncConnection) -> None:
        source = await require_source(conn, source_id)
        await app_store.delete_app(conn, source.id)

    await ctx.db.write_retrying(delete)
    forget(ctx.db)


async def rotate_token(ctx: Context, source_id: str) -> Source:
    """A new ingest URL; the old token stops working at once."""
    now = ctx.clock()
    async with ctx.db.write() as conn:
        source = await require_source(conn, source_id)
        updated = dataclasses.replace(source, token=new_token(), updated_at=now)
        await store.save_source(conn, updated)
    forget(ctx.db)
    return updated
