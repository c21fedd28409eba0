"""API keys and app portal tokens, found by the SHA-256 digest of their token."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.core.access import ApiKey, Capability, PortalToken, Scope
from hookd.core.domain import Page
from hookd.store.codec import from_ms, opt_from_ms, to_ms
from hookd.store.pages import paginate
from hookd.store.schema import api_keys as keys
from hookd.store.schema import portal_tokens as tokens


def _key(row: Row[Any]) -> ApiKey:
    m = row._mapping
    return ApiKey(
        id=m["id"],
        name=m["name"],
        scope=Scope(m["scope"]),
        app_id=m["app_id"],
        created_at=from_ms(m["created_at"]),
        last_used_at=opt_from_ms(m["last_used_at"]),
        expires_at=opt_from_ms(m["expires_at"]),
    )


def _token(row: Row[Any]) -> PortalToken:
    m = row._mapping
    return PortalToken(
        id=m["id"],
        app_id=m["app_id"],
        capabilities=frozenset(Capability(c) for c in m["capabilities"]),
        feature_flags=frozenset(m["feature_flags"]),
        session_id=m["session_id"],
        created_at=from_ms(m["created_at"]),
        expires_at=from_ms(m["expires_at"]),
    )


async def insert_key(conn: AsyncConnection, key: ApiKey, digest: bytes) -> None:
    await conn.execute(
        insert(keys).values(
            id=key.id,
            name=key.name,
            scope=key.scope.value,
            app_id=key.app_id,
            digest=digest,
            created_at=to_ms(key.created_at),
            last_used_at=None,
            expires_at=None if key.expires_at is None else to_ms(key.expires_at),
        )
    )


async def get_key(conn: AsyncConnection, key_id: str) -> ApiKey | None:
    row = (await conn.execute(select(keys).where(keys.c.id == key_id))).first()
    return _key(row) if row else None


async def key_by_digest(conn: AsyncConnection, digest: bytes) -> ApiKey | None:
    row = (await conn.execute(select(keys).where(keys.c.digest == digest))).first()
    return _key(row) if row else None


async def list_keys(
    conn: AsyncConnection, *, iterator: str | None, limit: int, descending: bool
) -> Page[ApiKey]:
    return await paginate(
        conn, select(keys), keys.c.id, _key, iterator=iterator, limit=limit, descending=descending
    )


async def delete_key(conn: AsyncConnection, key_id: str) -> bool:
    """Whether a key was deleted."""
    return bool((await conn.execute(delete(keys).where(keys.c.id == key_id))).rowcount)


async def mark_used(conn: AsyncConnection, key_id: str, now: datetime) -> None:
    await conn.execute(update(keys).where(keys.c.id == key_id).values(last_used_at=to_ms(now)))


async def insert_token(conn: AsyncConnection, token: PortalToken, digest: bytes) -> None:
    await conn.execute(
        insert(tokens).values(
            id=token.id,
            app_id=token.app_id,
            digest=digest,
            capabilities=sorted(token.capabilities),
            feature_flags=sorted(token.feature_flags),
            session_id=token.session_id,
            created_at=to_ms(token.created_at),
            expires_at=to_ms(token.expires_at),
        )
    )


async def token_by_digest(conn: AsyncConnection, digest: bytes) -> PortalToken | None:
    row = (await conn.execute(select(tokens).where(tokens.c.digest == digest))).first()
    return _token(row) if row else None


async def expire_tokens(
    conn: AsyncConnection, app_id: str, at: datetime, session_ids: Collection[str] | None
) -> int:
    """Bring the expiry of ``app_id``'s tokens (of ``session_ids`` only, when given) forward to
    ``at`` (those expiring sooner keep their time); how many tokens that touched."""
    query = update(tokens).where(tokens.c.app_id == app_id, tokens.c.expires_at > to_ms(at))
    if session_ids is not None:
        query = query.where(tokens.c.session_id.in_(list(session_ids)))
    return int((await conn.execute(query.values(expires_at=to_ms(at)))).rowcount)


async def delete_token(conn: AsyncConnection, token_id: str) -> None:
    await conn.execute(delete(tokens).where(tokens.c.id == token_id))


async def delete_expired_tokens(conn: AsyncConnection, before: datetime) -> int:
    result = await conn.execute(delete(tokens).where(tokens.c.expires_at <= to_ms(before)))
    return int(result.rowcount)
