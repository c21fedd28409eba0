"""Payload shapes at the pipeline's two ends.

On the way in: number a message's payload versions and check them against the event type's
JSON Schemas. On the way out: what each delivery sends (``core.payloads.shapes``), with thin links
signed by a key that hookd generates once and keeps in the database, so every API and worker
process on that database signs and verifies with the same key.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError

from hookd.core.domain import Endpoint, EventType, Message
from hookd.core.payloads.links import LinkError, PayloadLink, verify_link
from hookd.core.payloads.schemas import message_version, schema_violation
from hookd.core.payloads.shapes import LinkSigning, Shaped, payload_of_version, shape
from hookd.services.context import Context
from hookd.services.errors import Forbidden, Gone, Invalid, NotFound, PayloadTooLarge
from hookd.store import endpoints as endpoint_store
from hookd.store import event_types as event_type_store
from hookd.store import messages as message_store
from hookd.store import server_keys
from hookd.store.codec import to_ms
from hookd.store.config_cache import for_database

LINK_KEY = "thin_links"
LINK_KEY_BYTES = 32
# By database URL: a key is generated once per database and never changes afterwards.
_link_keys: dict[str, bytes] = {}


@dataclass(frozen=True, slots=True)
class Versions:
    """A message's payload version and the exact bytes of its other versions."""

    version: int
    others: dict[int, bytes]


async def accept_versions(
    ctx: Context,
    event_type: str,
    payload: bytes,
    others: Mapping[int, bytes],
    *,
    declared: int | None,
    validate: bool | None,
) -> Versions:
    """Number the payload, refuse a repeated version, check schemas when asked (422)."""
    for version, body in others.items():
        if len(body) > ctx.settings.max_payload_bytes:
            raise PayloadTooLarge(
                f"payloadVersions[{version}] is {len(body)} bytes; "
                f"the limit is {ctx.settings.max_payload_bytes}"
            )
    found = await _event_type(ctx, event_type)
    schemas = found.schemas if found is not None else None
    version = message_version(declared, others, schemas)
    if version in others:
        raise Invalid(
            f"payloadVersions repeats version {version}, which is the version of payload",
            loc=("body", "payloadVersions", str(version)),
        )
    if schemas and (ctx.settings.validate_payloads if validate is None else validate):
        _check_schema(event_type, schemas, version, payload, ("body", "payload"))
        for other, body in sorted(others.items()):
            _check_schema(event_type, schemas, other, body, ("body", "payloadVersions", str(other)))
    return Versions(version, dict(others))


async def _event_type(ctx: Context, name: str) -> EventType | None:
    async def load() -> EventType | None:
        async with ctx.db.read() as conn:
            return await event_type_store.get_event_type(conn, name)

    cache = for_database(ctx.db, sole_process=ctx.settings.role == "all")
    return await load() if cache is None else await cache.event_type(name, load)


def _check_schema(
    event_type: str,
    schemas: Mapping[str, Any],
    version: int,
    body: bytes,
    loc: tuple[str | int, ...],
) -> None:
    schema = schemas.get(str(version))
    if not isinstance(schema, Mapping):
        return  # the event type declares no schema for this version: nothing to check
    violation = schema_violation(schema, orjson.loads(body))
    if violation is not None:
        raise Invalid(
            f"{violation.json_path}: {violation.message} "
            f"(schema version {version} of event type {event_type!r})",
            loc=(*loc, *violation.path),
            code="schema_violation",
        )


async def link_key(ctx: Context) -> bytes:
    """The thin-link key of this database: read once, created by whichever process is first."""
    key = _link_keys.get(ctx.db.url)
    if key is None:
        key = await _read_key(ctx) or await _create_key(ctx)
        _link_keys[ctx.db.url] = key
    return key


async def _read_key(ctx: Context) -> bytes | None:
    async with ctx.db.read() as conn:
        return await server_keys.get_key(conn, LINK_KEY)


async def _create_key(ctx: Context) -> bytes:
    try:
        async with ctx.db.write() as conn:
            key = await server_keys.get_key(conn, LINK_KEY)
            if key is None:
                key = secrets.token_bytes(LINK_KEY_BYTES)
                await server_keys.insert_key(conn, LINK_KEY, key, to_ms(ctx.clock()))
            return key
    except IntegrityError:
        # Another process inserted it between our read and our write: use theirs.
        key = await _read_key(ctx)
        if key is None:
            raise
        return key


async def delivery_shape(
    ctx: Context, message: Message, endpoint: Endpoint, now: datetime
) -> Shaped:
    """The body, payload version and ingested extras one delivery sends."""
    expires_at = now + timedelta(seconds=ctx.settings.thin_link_ttl_seconds)
    # Only thin bodies carry a signed link: other deliveries never wait for the key's first read
    # (at start, every delivery of the first round would read it).
    key = await link_key(ctx) if endpoint.thin else b""
    links = LinkSigning(key, ctx.settings.effective_public_url, expires_at)
    return shape(message, endpoint, links)


async def linked_payload(ctx: Context, link: PayloadLink) -> tuple[Message, bytes]:
    """The payload a thin webhook's link points at: 403 when forged or expired, 404, 410."""
    try:
        verify_link(await link_key(ctx), link, ctx.clock())
    except LinkError as exc:
        raise Forbidden(exc.detail, code=exc.code) from exc
    async with ctx.db.read() as conn:
        message = (await message_store.messages_by_id(conn, [link.msg_id])).get(link.msg_id)
        endpoint = await endpoint_store.endpoints_by_id(conn, [link.endpoint_id])
    if message is None or link.endpoint_id not in endpoint:
        raise NotFound("the message or the endpoint this link was sent to no longer exists")
    payload = payload_of_version(message, link.version)
    if payload is None:
        raise Gone("the payload was deleted (expunged)", code="payload_expunged")
    return message, payload
