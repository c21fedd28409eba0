"""Alert channel operations: create, list, get, update, delete, their secrets.

The rules of a channel's configuration are ``core.alerts.channels``'; here they meet the
settings (the SSRF allow list, whether an SMTP server is configured) and the store. A webhook
channel owns an endpoint of the hidden alert application (``webhook_app``): it is created,
changed and deleted with the channel, in the same transaction. A channel that a rule names
cannot be deleted (409 ``channel_in_use``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hookd import ids
from hookd.core.alerts import channels as rules
from hookd.core.alerts.channels import POSTED, WEBHOOK, AlertChannel, ChannelConfigError
from hookd.core.domain import Endpoint, ListQuery, Page
from hookd.core.masking import MaskedSecretError, kept_url
from hookd.core.signing import SignatureError, generate_hmac_secret, parse_signing_key
from hookd.services.alerts.email import smtp_configured
from hookd.services.alerts.webhook_app import ALERT_APP_ID, ensure_app, ensure_app_in
from hookd.services.context import Context
from hookd.services.errors import Conflict, Invalid, NotFound
from hookd.store import endpoints as endpoint_store
from hookd.store.alerts import channels as store
from hookd.store.alerts import records as rule_store

# The rules a refused delete names (the rest are counted).
MAX_NAMED = 5


@dataclass(frozen=True, slots=True)
class ChannelView:
    """A channel as the API shows it: a webhook channel with its endpoint (None if deleted)."""

    channel: AlertChannel
    endpoint: Endpoint | None = None


def _invalid(exc: ChannelConfigError) -> Invalid:
    field = exc.field
    loc: tuple[str, ...] = ("body", field) if field in ("name", "type") else ("body", "config")
    if field not in (None, "name", "type"):
        loc = ("body", "config", str(field))
    return Invalid(exc.detail, loc=loc, code=exc.code)


def _config(fields: Mapping[str, Any]) -> dict[str, Any]:
    config = fields.get("config")
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise Invalid("config must be an object", loc=("body", "config"))
    return dict(config)


def _checked_config(
    ctx: Context, channel_type: str, config: Mapping[str, Any], stored: AlertChannel | None
) -> dict[str, Any]:
    """The config to store for a POSTED or email channel (a webhook channel stores none)."""
    allow = ctx.settings.networks
    try:
        rules.check_fields(channel_type, config)
        if channel_type in POSTED:
            old = stored.config.get("url") if stored is not None else None
            url = rules.kept_secret_url(_required(config, "url"), old)
            return {"url": rules.check_posted_url(url, allow)}
        if channel_type == rules.EMAIL:
            if not smtp_configured(ctx.settings):
                raise ChannelConfigError(
                    "email channels need an SMTP server: the operator sets HOOKD_SMTP_HOST and "
                    "HOOKD_SMTP_FROM",
                    "type",
                    code="smtp_not_configured",
                )
            return {"to": rules.check_recipients(config.get("to"))}
        return {}
    except ChannelConfigError as exc:
        raise _invalid(exc) from exc


def _required(config: Mapping[str, Any], key: str) -> Any:
    if key not in config:
        raise ChannelConfigError(f"config.{key} is required", key)
    return config[key]


def _webhook_url(ctx: Context, config: Mapping[str, Any], stored: str | None) -> str:
    try:
        url = _required(config, "url")
        if isinstance(url, str):
            url = kept_url(url, stored)  # a URL with a password: masked like an endpoint's
        return rules.check_webhook_url(url, ctx.settings.networks)
    except MaskedSecretError as exc:
        raise Invalid(str(exc), loc=("body", "config", "url")) from exc
    except ChannelConfigError as exc:
        raise _invalid(exc) from exc


def _signing_secret(config: Mapping[str, Any]) -> str:
    secret = config.get("secret")
    if secret is None:
        return generate_hmac_secret()
    if not isinstance(secret, str):
        raise Invalid("config.secret must be a string", loc=("body", "config", "secret"))
    try:
        parse_signing_key(secret)
    except SignatureError as exc:
        raise Invalid(f"secret: {exc}", loc=("body", "config", "secret")) from exc
    return secret


def _new_endpoint(channel_id: str, name: str, url: str, secret: str, now: datetime) -> Endpoint:
    return Endpoint(
        id=ids.new_id(ids.ENDPOINT, now),
        app_id=ALERT_APP_ID,
        uid=channel_id,  # the channel's id names its endpoint too
        url=url,
        description=f"alert channel {name}",
        version=None,
        disabled=False,
        filter_types=None,
        channels=None,
        rate_limit=None,
        metadata={},
        headers={},
        secret=secret,
        old_secrets=(),
        created_at=now,
        updated_at=now,
    )


def _type(fields: Mapping[str, Any]) -> str:
    channel_type = fields.get("type")
    if channel_type not in rules.TYPES:
        raise Invalid(f"type must be one of {', '.join(rules.TYPES)}", loc=("body", "type"))
    return str(channel_type)


def _name(fields: Mapping[str, Any]) -> str:
    try:
        return rules.check_name(fields.get("name"))
    except ChannelConfigError as exc:
        raise _invalid(exc) from exc


async def create_channel(ctx: Context, fields: Mapping[str, Any]) -> ChannelView:
    name, channel_type, config = _name(fields), _type(fields), _config(fields)
    now = ctx.clock()
    channel_id = ids.new_id(ids.ALERT_CHANNEL, now)
    endpoint: Endpoint | None = None
    if channel_type == WEBHOOK:
        try:
            rules.check_fields(WEBHOOK, config)
        except ChannelConfigError as exc:
            raise _invalid(exc) from exc
        url = _webhook_url(ctx, config, None)
        endpoint = _new_endpoint(channel_id, name, url, _signing_secret(config), now)
        stored: dict[str, Any] = {}
        await ensure_app(ctx)
    else:
        stored = _checked_config(ctx, channel_type, config, None)
    channel = AlertChannel(
        id=channel_id,
        name=name,
        type=channel_type,
        config=stored,
        disabled=bool(fields.get("disabled")),
        endpoint_id=endpoint.id if endpoint else None,
        created_at=now,
        updated_at=now,
    )
    async with ctx.db.write() as conn:
        if endpoint is not None:
            await endpoint_store.insert_endpoint(conn, endpoint)
        await store.insert_channel(conn, channel)
    return ChannelView(channel, endpoint)


async def _require(conn: AsyncConnection, channel_id: str) -> AlertChannel:
    channel = await store.get_channel(conn, channel_id)
    if channel is None:
        raise NotFound(f"alert channel {channel_id!r} not found")
    return channel


async def _endpoint(conn: AsyncConnection, channel: AlertChannel) -> Endpoint | None:
    if channel.endpoint_id is None:
        return None
    return await endpoint_store.get_endpoint(conn, ALERT_APP_ID, channel.endpoint_id)


async def get_channel(ctx: Context, channel_id: str) -> ChannelView:
    async with ctx.db.read() as conn:
        channel = await _require(conn, channel_id)
        return ChannelView(channel, await _endpoint(conn, channel))


async def list_channels(ctx: Context, query: ListQuery) -> Page[ChannelView]:
    """A page of channels, oldest first unless ``query`` says otherwise."""
    async with ctx.db.read() as conn:
        page = await store.list_channels(
            conn, iterator=query.iterator, limit=query.limit, descending=query.descending(False)
        )
        endpoint_ids = [c.endpoint_id for c in page.items if c.endpoint_id is not None]
        endpoints = await endpoint_store.endpoints_by_id(conn, endpoint_ids)
    views = [
        ChannelView(c, endpoints.get(c.endpoint_id) if c.endpoint_id else None) for c in page.items
    ]
    return Page(views, page.iterator, page.prev_iterator, page.done)


async def update_channel(
    ctx: Context, channel_id: str, fields: Mapping[str, Any], *, replace: bool
) -> ChannelView:
    """PUT (``replace``: name and config as sent) or PATCH (only the fields sent). The type of
    a channel is fixed."""
    now = ctx.clock()
    async with ctx.db.write() as conn:
        channel = await _require(conn, channel_id)
        if "type" in fields and fields["type"] != channel.type:
            raise Invalid(
                f"a channel's type cannot change (it is {channel.type}): create a new channel",
                loc=("body", "type"),
                code="type_immutable",
            )
        name = _name(fields) if replace or fields.get("name") is not None else channel.name
        endpoint = await _endpoint(conn, channel)
        config = _config(fields)
        stored = channel.config
        endpoint_id = channel.endpoint_id
        if replace or "config" in fields:
            if channel.type == WEBHOOK:
                endpoint = await _update_webhook(
                    ctx, conn, channel, endpoint, name, config, now, replace=replace
                )
                endpoint_id = endpoint.id
            else:
                if not replace:
                    config = {**channel.config, **config}
                stored = _checked_config(ctx, channel.type, config, channel)
        disabled = channel.disabled
        if replace or fields.get("disabled") is not None:
            disabled = bool(fields.get("disabled"))
        updated = dataclasses.replace(
            channel,
            name=name,
            config=stored,
            disabled=disabled,
            endpoint_id=endpoint_id,
            updated_at=now,
        )
        await store.save_channel(conn, updated)
    return ChannelView(updated, endpoint)


async def _update_webhook(
    ctx: Context,
    conn: AsyncConnection,
    channel: AlertChannel,
    endpoint: Endpoint | None,
    name: str,
    config: Mapping[str, Any],
    now: datetime,
    *,
    replace: bool,
) -> Endpoint:
    """A webhook channel's endpoint with the new URL (a new endpoint if its own was deleted)."""
    try:
        rules.check_fields(WEBHOOK, config)
    except ChannelConfigError as exc:
        raise _invalid(exc) from exc
    if "secret" in config:
        raise Invalid(
            "a webhook channel's secret is set when it is created; rotate it with "
            "POST /api/v1/alert/channel/{id}/secret/rotate",
            loc=("body", "config", "secret"),
        )
    if endpoint is None:
        url = _webhook_url(ctx, config, None)
        await ensure_app_in(conn, now)
        created = _new_endpoint(channel.id, name, url, generate_hmac_secret(), now)
        await endpoint_store.insert_endpoint(conn, created)
        return created
    kept = {} if replace else {"url": endpoint.url}  # PATCH without a URL keeps it
    url = _webhook_url(ctx, {**kept, **config}, endpoint.url)
    changed = dataclasses.replace(
        endpoint, url=url, description=f"alert channel {name}", updated_at=now
    )
    await endpoint_store.save_endpoint(conn, changed)
    return changed


async def delete_channel(ctx: Context, channel_id: str) -> None:
    """The channel, and a webhook channel's endpoint (its queued notices with it). A channel
    that rules notify is not deleted (409 ``channel_in_use``, naming them): deleting it would
    leave those rules telling nobody. Take it out of the rules first, or disable it."""
    async with ctx.db.write() as conn:
        channel = await store.get_channel(conn, channel_id, lock=True)
        if channel is None:
            raise NotFound(f"alert channel {channel_id!r} not found")
        users = await rule_store.rules_naming_channel(conn, channel.id)
        if users:
            named = ", ".join(f"{rule_id} ({name!r})" for rule_id, name in users[:MAX_NAMED])
            if len(users) > MAX_NAMED:
                named += f" and {len(users) - MAX_NAMED} more"
            raise Conflict(
                f"alert channel {channel_id!r} is notified by {len(users)} alert "
                f"rule{'s' if len(users) > 1 else ''}: {named}; take it out of their channels "
                "first (or disable the channel)",
                code="channel_in_use",
            )
        await store.delete_channel(conn, channel.id)
        if channel.endpoint_id is not None:
            await endpoint_store.delete_endpoint(conn, channel.endpoint_id)


async def channel_secret(ctx: Context, channel_id: str) -> dict[str, str | None]:
    """The secrets in clear: a posted channel's URL; a webhook channel's URL and signing key."""
    view = await get_channel(ctx, channel_id)
    channel, endpoint = view.channel, view.endpoint
    if channel.type in POSTED:
        return {"url": channel.config.get("url"), "key": None}
    if endpoint is not None:
        return {"url": endpoint.url, "key": endpoint.secret}
    return {"url": None, "key": None}


async def webhook_endpoint_id(ctx: Context, channel_id: str) -> str:
    """A webhook channel's endpoint (for rotating its secret); 404 for any other channel."""
    view = await get_channel(ctx, channel_id)
    if view.channel.type != WEBHOOK or view.endpoint is None:
        raise NotFound(
            f"alert channel {channel_id!r} has no signing secret (not a webhook channel)"
        )
    return view.endpoint.id
