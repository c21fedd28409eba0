"""What operational events need to know about the rows a worker flush touched.

Read inside the flush's own transaction (on a synchronous connection: the flush runs through
``Database.run_write``), and only when the flush produced an event (rare: a fourth failure, an
exhausted message, a recovery, an endpoint to disable).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from hookd.store.codec import opt_from_ms
from hookd.store.schema import applications, endpoint_state, endpoints, messages


@dataclass(frozen=True, slots=True)
class EndpointFacts:
    app_id: str
    uid: str | None
    disabled: bool
    failing_since: datetime | None


def app_uids(conn: Connection, app_ids: Collection[str]) -> dict[str, str | None]:
    if not app_ids:
        return {}
    app = applications.c
    rows = conn.execute(select(app.id, app.uid).where(app.id.in_(list(app_ids))))
    return {row.id: row.uid for row in rows}


def event_ids(conn: Connection, msg_ids: Collection[str]) -> dict[str, str | None]:
    if not msg_ids:
        return {}
    message = messages.c
    rows = conn.execute(select(message.id, message.event_id).where(message.id.in_(list(msg_ids))))
    return {row.id: row.event_id for row in rows}


def endpoint_facts(conn: Connection, endpoint_ids: Collection[str]) -> dict[str, EndpointFacts]:
    if not endpoint_ids:
        return {}
    endpoint, state = endpoints.c, endpoint_state.c
    query = (
        select(
            endpoint.id, endpoint.app_id, endpoint.uid, endpoint.disabled, state.first_failure_at
        )
        .select_from(endpoints.outerjoin(endpoint_state, state.endpoint_id == endpoint.id))
        .where(endpoint.id.in_(list(endpoint_ids)))
    )
    return {
        row.id: EndpointFacts(
            row.app_id, row.uid, bool(row.disabled), opt_from_ms(row.first_failure_at)
        )
        for row in conn.execute(query)
    }
