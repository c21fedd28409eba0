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
from typing import Any, NamedTuple

from sqlalchemy import Connection

from hookd import ids
from hookd.core.domain import Application, Claim, Endpoint, Message
from hookd.services.applications import new_app
from hookd.services.context import Context
from hookd.services.create_keys import GroupKeys, KeyRequest
from hookd.services.errors import Conflict, NotFound
from hookd.services.handoff import HandedOff, HandOffLedger, may_hand_off
from hookd.services.messages.fanout import outbound_targets
from hookd.store import message_writes as store
from hookd.store.codec import to_ms
from hookd.store.config_cache import ConfigCache, endpoints_of
from hookd.store.deliveries import new_delivery_rows
from hookd.store.group_commit import PerDatabase
from hookd.store.messages import (
    DEFAULT_PAYLOAD_RETENTION_HOURS,
    message_values,
    version_rows,
)
from hookd.store.scheduling import PENDING, SENDING
from hookd.tracing import TraceContext

# The message, its deliveries, and how many of them were queued (not handed to the worker).
Created = tuple[Message, int, int]


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
    payload_retention_hours: int = DEFAULT_PAYLOAD_RETENTION_HOURS
    deliver_at: datetime | None = None  # the producer's deliverAt, kept to echo it
    due: datetime | None = None  # a scheduled message's deliveries wait until then
    handoff: HandOffLedger | None = None  # the local worker, when it may take deliveries directly
    key: KeyRequest | None = None  # its Idempotency-Key, claimed in the group's transaction
    trace: TraceContext | None = None  # its create span's, kept with it (tracing on)
    request_id: str | None = None  # the API request's id (X-Request-Id), kept on the message


class _Accepted(NamedTuple):
    new: NewMessage
    message: Message
    targets: list[Endpoint]
    app_rate_limit: int | None  # applies to the targets without a rate limit of their own


async def commit(ctx: Context, new: NewMessage) -> Created:
    """Persist ``new`` with the creates waiting beside it; return it once committed."""
    # The cache is only correct when this process owns the SQLite file alone.
    created = await _creates.submit(
        ctx.db,
        new,
        sole_process=ctx.settings.role == "all",
        telemetry=ctx.telemetry,
        tracing=ctx.tracing,
    )
    ctx.telemetry.message_accepted(created[0].app_id, "api")
    return created


def create_group(
    conn: Connection, group: Sequence[NewMessage], cache: ConfigCache | None
) -> list[Created | Exception]:
    """Write every acceptable create of ``group``; one outcome per create, in order."""
    keys = None
    if any(new.key for new in group):
        keys = GroupKeys(conn, [new.key for new in group], [to_ms(new.now) for new in group])
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
    refused: list[Exception | None] = []
    accepted: list[_Accepted] = []
    for index, (new, app) in enumerate(zip(group, apps, strict=True)):
        held = None if keys is None else keys.refusal(index)
        if held is not None:
            refused.append(held)
            continue
        if isinstance(app, Exception):
            refused.append(app)
            continue
        if new.event_id is not None:
            if (app.id, new.event_id) in taken:
                refused.append(duplicate(new.event_id))
                continue
            taken.add((app.id, new.event_id))
        message = _message(new, app.id)
        targets = outbound_targets(message, endpoints_of(conn, app.id, cache))
        accepted.append(_Accepted(new, message, targets, app.rate_limit))
        refused.append(None)
    closed, sending = _closed_to_handoff(conn, accepted)
    created: list[Created] = []
    message_rows: list[dict[str, Any]] = []
    delivery_rows: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    for new, message, targets, app_rate_limit in accepted:
        message_rows.append(message_values(message, new.payload_retention_hours))
        versions += version_rows(message)
        rows = new_delivery_rows(
            [ids.new_id(ids.DELIVERY, new.now) for _ in targets],
            message.id,
            message.app_id,
            [endpoint.id for endpoint in targets],
            to_ms(new.now),
            due_ms=None if new.due is None else to_ms(new.due),
        )
        if new.handoff is not None and new.due is None:
            _hand_off(new.handoff, message, targets, rows, closed, sending, app_rate_limit)
        created.append((message, len(rows), sum(1 for r in rows if r["status"] == PENDING)))
        delivery_rows += rows
    store.insert_rows(conn, message_rows, delivery_rows, versions)
    done = iter(created)
    outcomes: list[Created | Exception] = [next(done) if exc is None else exc for exc in refused]
    return outcomes if keys is None else keys.settle(conn, outcomes)


def _closed_to_handoff(
    conn: Connection, accepted: Sequence[_Accepted]
) -> tuple[set[str], dict[str, int] | None]:
    """Endpoints the group's hand-offs must skip: failing lately, or deliveries already due
    (those go first; a hand-off would overtake them). One query for the group.

    With other delivery processes (``HandOffLedger.shared``), also each candidate's deliveries in
    flight by every process, as the database counts them (a second query)."""
    candidates: set[str] = set()
    shared = False
    for new, _, targets, app_rate_limit in accepted:
        if new.handoff is not None:
            shared = new.handoff.shared
            candidates.update(
                e.id for e in targets if may_hand_off(e, new.due, app_rate_limit=app_rate_limit)
            )
    if not candidates:
        return set(), None
    now_ms = to_ms(accepted[0].new.now)
    sending = store.sending_counts(conn, candidates) if shared else None
    return store.not_open_now(conn, candidates, now_ms), sending


def _hand_off(
    handoff: HandOffLedger,
    message: Message,
    targets: Sequence[Endpoint],
    rows: list[dict[str, Any]],
    closed: set[str],
    sending: dict[str, int] | None,
    app_rate_limit: int | None,
) -> None:
    """Write the deliveries the worker can start now as claimed, and stage them for it.

    An endpoint that cannot take one (no slot) is closed for the rest of the group, so its
    later messages queue behind this one instead of overtaking it. ``sending``: every
    process's deliveries in flight per endpoint, when other processes deliver too.
    """
    lease_ms = to_ms(message.created_at + handoff.lease)
    for endpoint, row in zip(targets, rows, strict=True):
        if endpoint.id in closed or not may_hand_off(endpoint, None, app_rate_limit=app_rate_limit):
            continue
        claim = Claim(row["id"], message.id, endpoint.id, message.app_id, 0, False)
        if sending is not None and sending.get(endpoint.id, 0) >= handoff.per_endpoint:
            closed.add(endpoint.id)
            continue
        if not handoff.offer(HandedOff(claim, message, endpoint)):
            closed.add(endpoint.id)
            continue
        if sending is not None:
            sending[endpoint.id] = sending.get(endpoint.id, 0) + 1
        row["status"], row["lease_until"] = SENDING, lease_ms


def _after_transaction(group: Sequence[NewMessage], committed: bool) -> None:
    """Start the hand-offs of a committed transaction; release those of a failed one."""
    for handoff in {id(new.handoff): new.handoff for new in group if new.handoff}.values():
        handoff.after_transaction(committed)


_creates: PerDatabase[NewMessage, Created] = PerDatabase(
    create_group, _after_transaction, kind="messages"
)


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
        deliver_at=new.deliver_at,
        traceparent=None if new.trace is None else new.trace.traceparent,
        tracestate=None if new.trace is None else new.trace.tracestate,
        request_id=new.request_id,
    )
