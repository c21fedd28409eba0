"""What a bin's capture URL does with a request: store it whole, then answer as configured.

Each capture is its own short write transaction (``Database.run_write``): the record, then the
bin's caps (``HOOKD_BIN_MAX_REQUESTS``: the oldest beyond it are forgotten; the TTL: the older
ones too), so a bin never holds more than its cap. The answer's delay is slept by the caller
after the commit: no transaction stays open while a request waits, and the event loop goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hookd import ids
from hookd.core import domain
from hookd.core.domain import InboundRecord, Source
from hookd.core.providers import InboundRequest, ip_allowed
from hookd.core.providers.request_bin import BIN
from hookd.services.bins.bins import kept_since, verifier_of
from hookd.services.context import Context
from hookd.services.errors import Forbidden
from hookd.services.ingest import tail
from hookd.services.ingest.forwarding import text_safe
from hookd.store.ingest import bins as store

CAPTURED = "captured"
CAPTURED_REASON = "captured by a request bin"


@dataclass(frozen=True, slots=True)
class Captured:
    """The bin's answer to a stored request, and how long to wait before sending it."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    delay_ms: int


def _record(source: Source, request: InboundRequest, now: datetime, status: int) -> InboundRecord:
    """The request kept whole, credentials included (a bin shows what was sent): not
    ``services.ingest.receive._record``, which redacts a source's credentials."""
    _, _, query = request.url.partition("?")
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
        code=CAPTURED,
        reason=CAPTURED_REASON,
        response_status=status,
        dedup_key=None,
        event_type=None,
        msg_id=None,
    )


async def capture(ctx: Context, source: Source, request: InboundRequest, now: datetime) -> Captured:
    """Store ``request`` in bin ``source``; return once committed, with the answer to send."""
    verifier = verifier_of(source)
    if not ip_allowed(request.remote_ip, verifier.allowed_networks):
        # A bin made through the Ingest API may have an allowlist (``allowedIps``).
        raise Forbidden(
            f"remote address {request.remote_ip or 'unknown'} is not allowed",
            code="ip_not_allowed",
        )
    answer = verifier.config.answer
    record = _record(source, request, now, answer.status)
    keep, since = ctx.settings.bin_max_requests, kept_since(source, now)
    await ctx.db.run_write(lambda conn: store.insert_capture(conn, record, keep, since))
    tail.announce(ctx.db, source.id)
    ctx.telemetry.ingest_outcome(source.id, domain.ACCEPTED, CAPTURED, answer.status, BIN)
    return Captured(answer.status, answer.headers, answer.body, answer.delay_ms)
