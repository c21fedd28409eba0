"""Making, reading, changing and deleting request bins."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hookd import ids
from hookd.core.domain import InboundRecord, ListQuery, Page, Source
from hookd.core.providers import ConfigError, Verifier, parse_verifier
from hookd.core.providers.request_bin import BIN, BinConfig
from hookd.core.providers.verifier import ALLOWLIST_FIELD
from hookd.services.context import Context
from hookd.services.errors import Invalid, NotFound
from hookd.services.ingest import sources as source_service
from hookd.services.ingest.receive import SourceMisconfigured
from hookd.services.ingest.source_cache import forget
from hookd.store import applications as app_store
from hookd.store.ingest import bins as store
from hookd.store.ingest import inbound_requests as records
from hookd.store.ingest import sources as source_store

DEFAULT_NAME = "request bin"


PARSED_CACHE_SIZE = 1024

_parsed: dict[tuple[str, datetime], Verifier] = {}


def verifier_of(source: Source) -> Verifier:
    """The bin's parsed config (answer, TTL) and allowlist, parsed once per version."""
    key = (source.id, source.updated_at)
    verifier = _parsed.get(key)
    if verifier is None:
        try:
            verifier = parse_verifier(BIN, source.config)
        except ConfigError as exc:
            # Saved configs were valid; this only happens when a newer hookd reads older ones.
            raise SourceMisconfigured(f"the bin's config is no longer valid: {exc}") from exc
        if len(_parsed) >= PARSED_CACHE_SIZE:
            _parsed.clear()
        _parsed[key] = verifier
    return verifier


def config_of(source: Source) -> BinConfig:
    config: BinConfig = verifier_of(source).config
    return config


def capture_url(ctx: Context, source: Source) -> str:
    return source_service.ingest_url(ctx, source)


def kept_since(source: Source, now: datetime) -> str:
    """The oldest request id the bin still shows (its TTL)."""
    return ids.floor_id(ids.REQUEST, now - timedelta(seconds=config_of(source).ttl_seconds))


def _checked_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config to store, normalized; Invalid naming the field (``body.answer.statusCode``)."""
    try:
        verifier = parse_verifier(BIN, config)
    except ConfigError as exc:
        raise Invalid(exc.message, loc=("body", *exc.field.split("."))) from exc
    parsed: BinConfig = verifier.config
    normalized = parsed.as_config()
    if config.get(ALLOWLIST_FIELD) is not None:  # set through the Ingest API: kept
        normalized[ALLOWLIST_FIELD] = config[ALLOWLIST_FIELD]
    return normalized


def _config_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if fields.get("answer") is not None:
        config["answer"] = fields["answer"]
    if fields.get("ttl_seconds") is not None:
        config["ttlSeconds"] = fields["ttl_seconds"]
    return config


async def create_bin(ctx: Context, fields: Mapping[str, Any]) -> Source:
    """A new bin: ``name``, ``uid``, ``answer`` (the config's shape) and ``ttl_seconds``."""
    config = _checked_config(_config_fields(fields))
    return await source_service.create_source(
        ctx,
        {
            "name": fields.get("name") or DEFAULT_NAME,
            "uid": fields.get("uid"),
            "type": BIN,
            "config": config,
            "metadata": fields.get("metadata") or {},
        },
    )


async def require_bin(conn: AsyncConnection, bin_id: str) -> Source:
    source = await source_store.get_source(conn, bin_id)
    if source is None or source.provider != BIN:
        raise NotFound(f"bin {bin_id!r} not found")
    return source


async def get_bin(ctx: Context, bin_id: str) -> Source:
    async with ctx.db.read() as conn:
        return await require_bin(conn, bin_id)


async def list_bins(ctx: Context, query: ListQuery) -> Page[Source]:
    async with ctx.db.read() as conn:
        return await store.list_bins(
            conn, iterator=query.iterator, limit=query.limit, descending=query.descending(False)
        )


async def update_bin(ctx: Context, bin_id: str, fields: Mapping[str, Any]) -> Source:
    """PATCH: a new ``answer`` (whole) and/or ``ttl_seconds``; the capture URL stays."""
    now = ctx.clock()
    async with ctx.db.write() as conn:
        source = await require_bin(conn, bin_id)
        config = _checked_config({**source.config, **_config_fields(fields)})
        updated = dataclasses.replace(source, config=config, updated_at=now)
        await source_store.save_source(conn, updated)
    forget(ctx.db)
    return updated


async def delete_bin(ctx: Context, bin_id: str) -> None:
    """Delete the bin with every request it captured."""

    async def delete(conn: AsyncConnection) -> None:
        source = await require_bin(conn, bin_id)
        await app_store.delete_app(conn, source.id)  # the source and its requests cascade

    await ctx.db.write_retrying(delete)
    forget(ctx.db)


async def list_captures(ctx: Context, bin_id: str, query: ListQuery) -> Page[InboundRecord]:
    """The bin's requests within its TTL, newest first."""
    now = ctx.clock()
    async with ctx.db.read() as conn:
        source = await require_bin(conn, bin_id)
        return await store.list_captures(
            conn,
            source.id,
            iterator=query.iterator,
            limit=query.limit,
            since_id=kept_since(source, now),
        )


async def get_capture(ctx: Context, bin_id: str, request_id: str) -> InboundRecord:
    now = ctx.clock()
    async with ctx.db.read() as conn:
        source = await require_bin(conn, bin_id)
        record = await records.get_record(conn, source.id, request_id)
    if record is None or record.id < kept_since(source, now):
        raise NotFound(f"request {request_id!r} not found in bin {bin_id!r}")
    return record
