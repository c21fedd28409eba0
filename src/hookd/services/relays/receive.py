"""What a relay's URL does with a request: store it (a record, a message, a delivery to the
relay's listeners) before anything is answered, as every source does."""

from __future__ import annotations

from datetime import datetime

from hookd import ids
from hookd.core import domain
from hookd.core.domain import InboundRecord, Source
from hookd.core.providers import InboundRequest
from hookd.core.providers.relay import PROVIDER, RELAY, RelayConfig
from hookd.services.context import Context
from hookd.services.ingest.forwarding import Arrival, store_request, text_safe
from hookd.telemetry import REQUEST_ID

RELAYED = "relayed"
RELAYED_REASON = "kept for the relay's listeners"


def record_for(source: Source, request: InboundRequest, now: datetime) -> InboundRecord:
    """The request's record, made before it is stored: its id is what the relay URL waits on.
    Kept whole, credentials included, as a bin's (``bins.capture``): the listener replays it
    exactly, so ``services.ingest.receive._record``, which redacts them, does not fit."""
    _, _, query = request.url.partition("?")
    event_type = PROVIDER.event_type(request, RelayConfig())
    answer = PROVIDER.default_response
    return InboundRecord(
        id=ids.new_id(ids.REQUEST, now),
        source_id=source.id,
        received_at=now,
        method=request.method,
        url=text_safe(request.url),
        path=text_safe(request.path),
        query=text_safe(query),
        headers=request.headers.pairs,
        body=request.body,
        remote_ip=request.remote_ip,
        outcome=domain.ACCEPTED,
        code=RELAYED,
        reason=RELAYED_REASON,
        response_status=answer.status,
        dedup_key=None,
        event_type=None if event_type is None else text_safe(event_type),
        msg_id=None,
    )


async def store(ctx: Context, source: Source, record: InboundRecord) -> int:
    """Store ``record`` with its message and deliveries (group-committed with the other
    sources' requests); return once committed, with the number of deliveries queued."""
    _, queued = await store_request(ctx, Arrival(source, record, request_id=REQUEST_ID.get()))
    if queued:
        ctx.wake_worker()
    ctx.telemetry.ingest_outcome(source.id, domain.ACCEPTED, RELAYED, record.response_status, RELAY)
    ctx.telemetry.message_accepted(source.id, "ingest")
    return queued
