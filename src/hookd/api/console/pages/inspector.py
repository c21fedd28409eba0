"""A source's request inspector (bins included): what it receives, live; one request's headers,
body and forwards; replay one, or every request a filter matches.

Live rows come as server-sent events from ``services.ingest.tail.follow``, the machinery of the
bins' ``/stream``: each event's data is the row's HTML, rendered (and escaped) here, which
``static/inspector.js`` puts at the top of the table.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import urlencode

from fastapi import Request
from starlette.responses import Response, StreamingResponse

from hookd import ids
from hookd.api.console.forms import parse_time, read_form
from hookd.api.console.render import environment, notice, page, page_links, see_other
from hookd.api.console.routing import console_router
from hookd.api.console.sessions import context
from hookd.core import domain
from hookd.core.domain import DeliveryStatus, InboundRecord, ListQuery
from hookd.core.providers.request_bin import BIN
from hookd.services.endpoints.overview import endpoints_with_health
from hookd.services.errors import Invalid
from hookd.services.ingest import inbound_requests as service
from hookd.services.ingest import tail
from hookd.services.ingest.sources import get_source, ingest_url

router = console_router()
PAGE_SIZE = 50
FORWARDS_SHOWN = 50
KEEPALIVE_SECONDS = 15.0
OUTCOMES = (domain.ACCEPTED, domain.DUPLICATE, domain.REJECTED, domain.HANDSHAKE)
REPLAYABLE = (domain.ACCEPTED, domain.DUPLICATE, domain.REJECTED)
REQUEST_ID = re.compile(r"^req_[0-9A-Za-z]{27}$")
REPLAYED = notice("request-replayed", "Replayed: {count} deliveries queued.")


def _outcomes(values: list[str]) -> list[str] | None:
    unknown = [value for value in values if value not in OUTCOMES]
    if unknown:
        raise Invalid(f"unknown outcome {unknown[0]!r}", loc=("query", "outcome"))
    return values or None


@router.get("/console/sources/{source_id}")
async def inspector(request: Request, source_id: str) -> Response:
    ctx = context(request)
    source = await get_source(ctx, source_id)
    outcomes = _outcomes([o for o in request.query_params.getlist("outcome") if o])
    iterator = request.query_params.get("iterator") or None
    query = request.query_params
    after = parse_time(query.get("after", "").strip(), label="From", loc=("query", "after"))
    before = parse_time(query.get("before", "").strip(), label="To", loc=("query", "before"))
    window = ListQuery(PAGE_SIZE, iterator, "descending", before=before, after=after)
    result = await service.list_requests(ctx, source.id, window, outcomes=outcomes)
    forwards = await endpoints_with_health(ctx, source.id, iterator=None, limit=FORWARDS_SHOWN)
    previous, following = page_links(request, result)
    # The stream starts after what the page shows: the newest row, else the page's moment.
    newest = result.items[0].id if result.items else ids.floor_id(ids.REQUEST, ctx.clock())
    stream = f"/console/sources/{source.id}/stream?" + urlencode(
        [("after", newest), *(("outcome", o) for o in outcomes or ())]
    )
    return page(
        request,
        "inspector/list.html",
        {
            "source": source,
            "is_bin": source.provider == BIN,
            "url": ingest_url(ctx, source),
            "rows": result.items,
            "forwards": forwards.items,
            "more_forwards": not forwards.done,
            "outcomes": OUTCOMES,
            "replayable": REPLAYABLE,
            "chosen": outcomes or [],
            "previous": previous,
            "following": following,
            "query": query,
            # Live rows only where the newest are: the first page, up to now.
            "stream": None if iterator or before else stream,
        },
        title=f"{source.name} · requests",
    )


def _row_event(record: InboundRecord) -> bytes:
    html = environment().get_template("inspector/row.html").render(record=record)
    data = "".join(f"data: {line}\n" for line in html.strip().splitlines())
    return f"event: request\nid: {record.id}\n{data}\n".encode()


@router.get("/console/sources/{source_id}/stream")
async def stream(request: Request, source_id: str) -> Response:
    """The source's requests after request id ``after`` (or ``Last-Event-ID``, a reconnection)
    as server-sent events: ``ready`` once it follows, then a ``request`` each (data: the row's
    HTML, id: the request's id)."""
    ctx = context(request)
    source = await get_source(ctx, source_id)
    outcomes = _outcomes([o for o in request.query_params.getlist("outcome") if o])
    resumed = request.headers.get("last-event-id") or request.query_params.get("after") or ""
    after = resumed if REQUEST_ID.match(resumed) else None

    async def events() -> AsyncIterator[bytes]:
        idle = 0.0
        opened = False
        async for batch in tail.follow(ctx, source.id, after=after):
            if not opened:
                opened = True
                yield b"event: ready\ndata: following\n\n"
            shown = [r for r in batch if outcomes is None or r.outcome in outcomes]
            for record in shown:
                yield _row_event(record)
            if batch:
                idle = 0.0
                continue
            idle += tail.POLL_SECONDS
            if idle >= KEEPALIVE_SECONDS:
                idle = 0.0
                yield b": keep-alive\n\n"

    headers = {"X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


@router.get("/console/sources/{source_id}/requests/{request_id}")
async def request_page(request: Request, source_id: str, request_id: str) -> Response:
    ctx = context(request)
    source = await get_source(ctx, source_id)
    found = await service.inspect_request(ctx, source.id, request_id)
    record = found.record
    return page(
        request,
        "inspector/detail.html",
        {
            "source": source,
            "is_bin": source.provider == BIN,
            "record": record,
            "destinations": found.destinations,
            "body": _body_text(record.body),
            "truncated": record.body_size is not None,
        },
        title=f"Request {record.id}",
    )


def _body_text(body: bytes) -> str | None:
    """The body as text when it is UTF-8 (else None: shown as a size only)."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


@router.post("/console/sources/{source_id}/requests/{request_id}/replay")
async def replay(request: Request, source_id: str, request_id: str) -> Response:
    form = await read_form(request)
    ctx = context(request)
    count = await service.replay_request(ctx, source_id, request_id, force=form.checked("force"))
    return see_other(
        f"/console/sources/{source_id}/requests/{request_id}", notice_code=REPLAYED, count=count
    )


@router.post("/console/sources/{source_id}/replay")
async def bulk_replay(request: Request, source_id: str) -> Response:
    """Forward again every request the filter matches (``replay_requests``, as the API's
    ``POST .../request/replay``): it finishes within the request, so its task is shown done."""
    form = await read_form(request)
    ctx = context(request)
    since = parse_time(form.text("since"), label="From", loc=("form", "since"))
    if since is None:
        raise Invalid("Choose the time to replay requests from", loc=("form", "since"))
    outcomes = [o for o in form.getlist("outcomes") if o in REPLAYABLE] or [domain.ACCEPTED]
    status_text = form.text("status")
    statuses = {status.text: status for status in DeliveryStatus}
    if status_text and status_text not in statuses:
        raise Invalid(f"unknown status {status_text!r}", loc=("form", "status"))
    result = await service.replay_requests(
        ctx,
        source_id,
        since=since,
        until=parse_time(form.text("until"), label="To", loc=("form", "until")),
        outcomes=outcomes,
        status=statuses[status_text] if status_text else None,
        force=form.checked("force"),
    )
    source = await get_source(ctx, source_id)
    return page(
        request, "inspector/replayed.html", {"source": source, "result": result}, title="Replayed"
    )
