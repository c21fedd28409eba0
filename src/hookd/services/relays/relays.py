"""Making, finding, attaching and deleting relays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hookd.core.destinations import DestinationKind
from hookd.core.domain import Endpoint, Source
from hookd.core.providers.relay import RELAY
from hookd.services.applications import require_app
from hookd.services.context import Context
from hookd.services.endpoints import crud as endpoints
from hookd.services.errors import Invalid, NotFound
from hookd.services.ingest import sources as source_service
from hookd.services.ingest.source_cache import forget
from hookd.store import applications as app_store
from hookd.store import deliveries
from hookd.store import endpoints as endpoint_store
from hookd.store.codec import to_ms
from hookd.store.ingest import sources as source_store

DEFAULT_NAME = "relay"
# The relay's own endpoint, in its hidden application: where its URL's requests go.
LISTENERS_UID = "relay-listeners"
RELAY_PATH = "/relay/"


def destination_url(relay_id: str) -> str:
    """The endpoint URL of a relay's listeners (``core.destinations``' ``relay://`` kind)."""
    return f"{DestinationKind.RELAY.value}://{relay_id}"


def attached_uid(relay_id: str) -> str:
    """The uid of the endpoint a relay is attached with in another source or application."""
    return f"relay-{relay_id}"


def relay_url(ctx: Context, source: Source) -> str:
    """The public URL a provider posts to (and any path under it)."""
    return ctx.settings.effective_public_url + RELAY_PATH + source.token


async def _require_relay(ctx: Context, relay_id: str) -> Source:
    async with ctx.db.read() as conn:
        source = await source_store.get_source(conn, relay_id)
    if source is None or source.provider != RELAY:
        raise NotFound(f"relay {relay_id!r} not found")
    return source


async def create_relay(ctx: Context, fields: Mapping[str, Any]) -> Source:
    """A new relay (``name``, ``uid``, ``metadata``) with its listeners' endpoint."""
    source = await source_service.create_source(
        ctx,
        {
            "name": fields.get("name") or DEFAULT_NAME,
            "uid": fields.get("uid"),
            "type": RELAY,
            "config": {},
            "metadata": fields.get("metadata") or {},
        },
    )
    await ensure_endpoint(ctx, source)
    return source


async def get_relay(ctx: Context, relay_id: str) -> Source:
    """The relay with this id or uid (404 for a missing one or another kind of source)."""
    return await _require_relay(ctx, relay_id)


async def ensure_endpoint(ctx: Context, relay: Source) -> Endpoint:
    """The relay's own endpoint, made when missing (also when a listener connects, so a
    relay whose endpoint was deleted by hand works again); its filters are kept."""
    try:
        return await endpoints.get_endpoint(ctx, relay.id, LISTENERS_UID)
    except NotFound:
        return await _ensure(ctx, relay.id, LISTENERS_UID, relay.id, Filters())


@dataclass(frozen=True, slots=True)
class Filters:
    """What a listener gets of what its relay is sent: an endpoint's ``filterTypes`` and JSON
    ``filter`` (body, headers, query, path), checked when saved, applied by the fan-out."""

    filter_types: Sequence[str] | None = None
    filter: Mapping[str, Any] | None = None

    def fields(self) -> dict[str, Any]:
        types = list(dict.fromkeys(self.filter_types)) if self.filter_types else None
        return {"filter_types": types, "filter": None if self.filter is None else dict(self.filter)}


async def _ensure(ctx: Context, app_id: str, uid: str, relay_id: str, filters: Filters) -> Endpoint:
    """The ``relay://`` endpoint ``uid`` of application ``app_id``, made or brought in line
    with ``filters``."""
    try:
        found = await endpoints.get_endpoint(ctx, app_id, uid)
    except NotFound:
        found = None
    wanted = filters.fields()
    url = destination_url(relay_id)
    if found is None:
        fields: dict[str, Any] = {
            "url": url,
            "uid": uid,
            "description": f"hookd listen (relay {relay_id})",
            **{name: value for name, value in wanted.items() if value is not None},
        }
        return await endpoints.create_endpoint(ctx, app_id, fields)
    current_types = None if found.filter_types is None else list(found.filter_types)
    if (
        current_types != wanted["filter_types"]
        or found.filter != wanted["filter"]
        or found.url != url
        or found.disabled
    ):
        changed, _ = await endpoints.update_endpoint(
            ctx, app_id, found.id, {"url": url, "disabled": False, **wanted}, replace=False
        )
        return changed
    return found


async def upsert_relay(
    ctx: Context, uid: str, fields: Mapping[str, Any], filters: Filters
) -> Source:
    """The relay with id or uid ``uid``, made when missing (``hookd listen --relay NAME``: one
    stable URL across runs), its own endpoint given ``filters``."""
    try:
        relay = await _require_relay(ctx, uid)
    except NotFound:
        relay = await create_relay(ctx, {**fields, "uid": uid})
    await _ensure(ctx, relay.id, LISTENERS_UID, relay.id, filters)
    return relay


async def attach(
    ctx: Context,
    relay: Source,
    *,
    source: str | None = None,
    app: str | None = None,
    filters: Filters | None = None,
) -> Endpoint:
    """Attach ``relay`` to a source (what it accepts) or an application (its messages,
    ``filter_types`` as an endpoint's): a ``relay://`` endpoint there, reused when present."""
    if (source is None) == (app is None):
        raise Invalid("attach to a source or to an application (one of them)", loc=("body",))
    if source is not None:
        found = await source_service.get_source(ctx, source)
        if found.provider == RELAY:
            raise Invalid("a relay cannot be attached to a relay", loc=("body", "source"))
        owner = found.id
    else:
        assert app is not None
        async with ctx.db.read() as conn:
            owner = (await require_app(conn, app)).id
    return await _ensure(ctx, owner, attached_uid(relay.id), relay.id, filters or Filters())


def app_relay_uid(app_id: str) -> str:
    """The uid of an application's own relay (``POST /api/v1/app/{app_id}/relay``)."""
    return f"app-{app_id}"


async def app_relay(ctx: Context, app_ref: str, filters: Filters) -> tuple[Source, Endpoint]:
    """The application's own relay, made on first use, attached to it with ``filters``:
    what an application's API key may listen on (docs/listen.md, Access)."""
    async with ctx.db.read() as conn:
        app = await require_app(conn, app_ref)
        existing = await source_store.get_source(conn, app_relay_uid(app.id))
    if existing is not None and existing.provider == RELAY:
        relay = existing
    else:
        name = f"relay of {app.name}"[:256]
        relay = await create_relay(ctx, {"name": name, "uid": app_relay_uid(app.id)})
    endpoint = await attach(ctx, relay, app=app.id, filters=filters)
    return relay, endpoint


async def attached_to(ctx: Context, relay: Source, app_id: str) -> bool:
    """Whether ``relay`` is attached to application ``app_id`` (who may listen on it)."""
    async with ctx.db.read() as conn:
        found = await endpoint_store.get_endpoint(conn, app_id, attached_uid(relay.id))
    return found is not None and found.url == destination_url(relay.id)


async def delete_relay(ctx: Context, relay_id: str) -> None:
    """Delete the relay, the requests it kept and every endpoint it is attached with."""
    relay = await _require_relay(ctx, relay_id)
    async with ctx.db.write() as conn:
        for endpoint in await endpoint_store.endpoints_with_url(conn, destination_url(relay.id)):
            await endpoint_store.delete_endpoint(conn, endpoint.id)
        await app_store.delete_app(conn, relay.id)  # the source and its requests cascade
    forget(ctx.db)


async def listener_arrived(ctx: Context, relay: Source) -> int:
    """A listener connected: its relay's waiting deliveries (every ``relay://`` endpoint of it)
    become due now with a fresh retry budget, the pending ones and the failed ones that never
    got an answer (no listener was there); return how many."""
    await ensure_endpoint(ctx, relay)
    now_ms = to_ms(ctx.clock())
    count = 0
    async with ctx.db.write() as conn:
        for endpoint in await endpoint_store.endpoints_with_url(conn, destination_url(relay.id)):
            count += await deliveries.rearm_unanswered(conn, endpoint_id=endpoint.id, now_ms=now_ms)
    if count:
        ctx.wake_worker()
    return count
