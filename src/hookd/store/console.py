"""Console sign-ins as stored: sessions and one-time login links, by the digest of their token."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hookd.store.schema import console_links as links
from hookd.store.schema import console_sessions as sessions


@dataclass(frozen=True, slots=True)
class StoredSession:
    principal: str
    created_at: int  # Unix ms, as every time in the store
    seen_at: int
    expires_at: int


async def insert_session(
    conn: AsyncConnection, digest: str, principal: str, now_ms: int, expires_ms: int
) -> None:
    await conn.execute(
        insert(sessions).values(
            digest=digest,
            principal=principal,
            created_at=now_ms,
            seen_at=now_ms,
            expires_at=expires_ms,
        )
    )


async def get_session(conn: AsyncConnection, digest: str) -> StoredSession | None:
    row = (
        await conn.execute(
            select(
                sessions.c.principal,
                sessions.c.created_at,
                sessions.c.seen_at,
                sessions.c.expires_at,
            ).where(sessions.c.digest == digest)
        )
    ).first()
    return None if row is None else StoredSession(*row)


async def touch_session(conn: AsyncConnection, digest: str, now_ms: int, expires_ms: int) -> None:
    await conn.execute(
        update(sessions)
        .where(sessions.c.digest == digest)
        .values(seen_at=now_ms, expires_at=expires_ms)
    )


async def delete_session(conn: AsyncConnection, digest: str) -> None:
    await conn.execute(delete(sessions).where(sessions.c.digest == digest))


async def insert_link(
    conn: AsyncConnection, digest: str, principal: str, now_ms: int, expires_ms: int
) -> None:
    await conn.execute(
        insert(links).values(
            digest=digest, principal=principal, created_at=now_ms, expires_at=expires_ms
        )
    )


async def take_link(conn: AsyncConnection, digest: str, now_ms: int) -> str | None:
    """Delete the link and return whom it signs in, if it existed and had not expired: a link
    is used once, and two requests racing for it cannot both get it (one deletes the row)."""
    row = (
        await conn.execute(
            delete(links)
            .where(links.c.digest == digest)
            .returning(links.c.principal, links.c.expires_at)
        )
    ).first()
    if row is None or row.expires_at <= now_ms:
        return None
    return str(row.principal)


async def delete_expired(conn: AsyncConnection, now_ms: int) -> None:
    """Forget expired sessions and links (both indexed on their expiry)."""
    await conn.execute(delete(sessions).where(sessions.c.expires_at <= now_ms))
    await conn.execute(delete(links).where(links.c.expires_at <= now_ms))
