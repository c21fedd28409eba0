"""Message creates, group-committed: the concurrent creates of a moment share one transaction.

Each create is checked on its own first (application found or created, ``eventId`` not taken,
not even by another create of the same group), so a refused create writes nothing and the others
proceed; then the group's messages and deliveries are inserted with one statement each.
Applications and endpoints come from the in-process :class:`ConfigCache` where one can be kept
(SQLite, one process owning the file), else from the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from hookd import ids
from hookd.core.domain import Application, Message
from hookd.services.applications import new_app
from hookd.services.context import Context
from hookd.services.errors import Conflict, NotFound
from hookd.services.fanout import outbound_targets
from hookd.store import message_writes as store
from hookd.store.codec import to_ms
from hookd.store.config_cache import ConfigCache, endpoints_of
from hookd.store.deliveries import new_delivery_rows
from hookd.store.group_commit import PerDatabase
from hookd.store.messages import (
    DEFAULT_PAYLOAD_RETENTION_DAYS,
    message_values,
    version_rows,
)

Created = tuple[Message, int]


@dataclass(frozen=True, slots=True)
class NewMessage:
    """One create request, already validated on its own."""

    app_ref: str  # the application's id or uid, as the caller wrote it
    application: Mapping[str, Any] | None  # create the application with these fields if missing
    msg_id: str
    event_type: str
    event_id: str | None
    channels: tuple[str, ...] | None
    tags: tuple[str, ...] | None
    payload: bytes
    now: datetime
    version: int = 1  # the version of ``payload``
    payload_versions: dict[int, bytes] | None = None  # the other versions, exact bytes
    payload_retention_days: int = DEFAULT_PAYLOAD_RETENTION_DAYS
    due: datetime | None = None  # a scheduled message's deliveries wait until then


async def commit(ctx: Context, new: NewMessage) -> Created:
    """Persist ``new`` with the creates waiting beside it; return it once committed."""
    # The cache is only correct when this process owns the SQLite file alone.
    return await _creates.submit(ctx.db, new, sole_process=ctx.settings.role == "all")


def create_group(
    conn: Connection, group: Sequence[NewMessage], cache: ConfigCache | None
) -> list[Created | Exception]:
    """Write every acceptable create of ``group``; one outcome per create, in order."""
    apps: list[Application | Exception] = []
    for new in group:
        try:
            apps.append(_application(conn, new, cache))
        except NotFound as exc:
            apps.append(exc)
    wanted = {
        (app.id, new.event_id)
        for new, app in zip(group, apps, strict=True)
        if new.event_id is not None and isinstance(app, Application)
    }
    taken = store.taken_event_ids(conn, wanted)
    outcomes: list[Created | Exception] = []
    message_rows: list[dict[str, Any]] = []
    delivery_rows: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    for new, app in zip(group, apps, strict=True):
        if isinstance(app, Exception):
            outcomes.append(app)
            continue
        if new.event_id is not None:
            if (app.id, new.event_id) in taken:
                outcomes.append(duplicate(new.event_id))
                continue
            taken.add((app.id, new.event_id))
        message = _message(new, app.id)
        targets = outbound_targets(message, endpoints_of(conn, app.id, cache))
        message_rows.append(message_values(message, new.payload_retention_days))
        versions += version_rows(message)
        delivery_rows += new_delivery_rows(
            [ids.new_id(ids.DELIVERY, new.now) for _ in targets],
            message.id,
            app.id,
            [endpoint.id for endpoint in targets],
            to_ms(new.now),
            due_ms=None if new.due is None else to_ms(new.due),
        )
        outcomes.append((message, len(targets)))
    store.insert_rows(conn, message_rows, delivery_rows, versions)
    return outcomes


_creates: PerDatabase[NewMessage, Created] = PerDatabase(create_group)


def duplicate(event_id: str | None) -> Conflict:
    return Conflict(f"a message with eventId {event_id!r} already exists in this application")


def _application(conn: Connection, new: NewMessage, cache: ConfigCache | None) -> Application:
    if cache is None:
        app = store.find_app(conn, new.app_ref)
    else:
        app = cache.app(new.app_ref, lambda: store.find_app(conn, new.app_ref))
    if app is not None:
        return app
    if new.application is None:
        raise NotFound(f"application {new.app_ref!r} not found")
    app = new_app(new.application, new.application.get("uid") or new.app_ref, new.now)
    store.insert_app(conn, app)
    return app


def _message(new: NewMessage, app_id: str) -> Message:
    return Message(
        id=new.msg_id,
        app_id=app_id,
        event_type=new.event_type,
        event_id=new.event_id,
        channels=new.channels,
        tags=new.tags,
        payload=new.payload,
        created_at=new.now,
        version=new.version,
        payload_versions=new.payload_versions,
    )
