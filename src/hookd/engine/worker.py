"""The delivery worker: claim due deliveries, send them, record the outcomes, in batches.

The loop reads top to bottom: ``_run`` -> ``_claim_and_start`` -> ``_deliver`` (one per claim,
concurrently) -> ``_flush`` (every finished attempt of the round in one transaction).
Deliveries a create handed over (``services.handoff``) enter at ``_take_handed_off`` instead of a
claim round. What the worker does is reported to ``ctx.telemetry`` (``hookd.telemetry``).
With tracing on (``ctx.tracing``), each delivery runs in an attempt span that continues the
trace its message was created in (``_deliver_traced``), and each request in a span of its own
(``engine.send_spans``) whose context the endpoint receives.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import random
import socket
import time
from collections.abc import Coroutine, Mapping
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Connection

from hookd import ids
from hookd.core.delivery import AttemptResult, Failure
from hookd.core.destinations import destination_kind, is_destination_url
from hookd.core.domain import Claim, Endpoint, Message
from hookd.core.payloads.batch import BATCH_ID_PREFIX, batch_body, is_batched
from hookd.engine.auth import Authenticator
from hookd.engine.destinations import BrokerDestinations
from hookd.engine.handoff import HandOff
from hookd.engine.http.sender import Sender
from hookd.engine.outcomes import Outcomes
from hookd.engine.queue.port import ClaimRound, Dispatch, RoundResult
from hookd.engine.send_spans import describe_attempt, send_traced
from hookd.engine.signed_headers import webhook_headers
from hookd.engine.transformations.apply import NotSent, prepare_delivery
from hookd.services.context import Context
from hookd.services.handoff import HandedOff
from hookd.services.messages.payload_shapes import delivery_shape
from hookd.store import deliveries, scheduling
from hookd.store import endpoints as endpoint_store
from hookd.store import messages as message_store
from hookd.store.codec import to_ms
from hookd.store.outages import is_outage
from hookd.store.scheduling import Limits
from hookd.telemetry import REQUEST_ID
from hookd.tracing import Attributes, TraceContext, Tracing

log = structlog.get_logger("hookd.worker")

ERROR_BACKOFF_SECONDS = 1.0
# Woken rounds start at most this often: an idle worker answers a wake-up at once, a busy one
# lets the creates and finished attempts of a few milliseconds collect into one round (one claim,
# one flush) instead of a round each.
WAKE_DEBOUNCE_SECONDS = 0.008
# Finished attempts that free no queued work (nothing waits for their slots) are flushed at most
# this often: recording them later delays nobody, and fewer, larger flushes cost less.
FLUSH_DEBOUNCE_SECONDS = 0.025
# When due work exists but nothing could be claimed (PostgreSQL: another worker holds it).
CONTENDED_SLEEP_SECONDS = 0.01
# How often a worker looks for leases that ran out (a dead worker's deliveries): a read of one
# indexed value, and a write only when one did. A dead worker's deliveries are sent again at
# most this long (or a quarter of the lease, if shorter) after their lease ran out.
RECLAIM_CHECK_SECONDS = 2.0


class DeliveryWorker:
    """Runs deliveries for one process; ``wake()`` makes it look for due work at once."""

    def __init__(
        self,
        ctx: Context,
        sender: Sender,
        brokers: BrokerDestinations,
        *,
        handoff: HandOff | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """``handoff``: the in-flight ledger (the runtime's, which creates may hand deliveries
        to); by default one of the worker's own."""
        self.ctx = ctx
        self.sender = sender
        self.auth = Authenticator(sender)  # endpoint credentials and mutual TLS
        self.brokers = brokers
        self.settings = ctx.settings
        self.telemetry = ctx.telemetry
        self.tracing = ctx.tracing
        self._wake = asyncio.Event()
        self._stopping = False
        self._inflight: dict[asyncio.Task[None], list[Claim]] = {}
        self.outcomes = Outcomes(ctx.settings, rng or random.Random(), ctx.telemetry)
        self._loop_task: asyncio.Task[None] | None = None
        self._next_reclaim_check = 0.0  # time.monotonic()
        self.name = f"{socket.gethostname()}:{os.getpid()}"  # in the logs
        self._round_started = 0.0
        # In-flight counts (total, per endpoint) of this worker's claims and hand-offs.
        self.handoff = handoff or HandOff(
            concurrency=self.settings.concurrency,
            per_endpoint=self.settings.endpoint_concurrency,
            lease_seconds=self.settings.lease_seconds,
        )
        # Whether a claim round may find something: new work was queued, an endpoint was marked
        # ready, a due time passed, or slots freed up after a round that was short of them.
        # Otherwise a wake-up (a finished attempt) only flushes.
        self._look = True
        self._look_when_freed = False
        # Whether the last flush found queued deliveries behind the finished ones (then flush
        # promptly: their slots are counted in the database until then).
        self._queued_behind = True
        self._last_flush = 0.0
        self._flush_timer: asyncio.TimerHandle | None = None
        self._next_ready_s: float | None = None  # the earliest ready_at seen (epoch seconds)
        self.counts = {"claim_rounds": 0, "claimed": 0, "handed_off": 0, "flushes": 0}
        # The Redis queue index, when configured (set by the runtime before ``start``).
        self.dispatch: Dispatch | None = None

    def wake(self) -> None:
        self._look = True
        self._wake.set()

    def take_handoffs(self) -> None:
        """From now until ``stop``, start the deliveries creates hand over (``handoff``)."""
        self.handoff.open(self._take_handed_off)

    async def start(self, *, reclaim_all: bool) -> None:
        """Start the loop; ``reclaim_all`` puts back every claimed row (embedded, one process)."""
        async with self.ctx.db.write() as conn:
            # Deliveries written without the scheduler's bookkeeping (bulk loads) become visible.
            await scheduling.rebuild_ready(conn)
            count = await deliveries.reclaim_expired(conn, 2**62) if reclaim_all else 0
        if count:
            log.info("reclaimed deliveries left in flight by the previous run", count=count)
        self._loop_task = asyncio.create_task(self._run(), name="hookd-delivery-worker")

    async def stop(self, grace: float) -> None:
        """Stop claiming, let in-flight attempts finish for ``grace`` seconds, release the rest."""
        self._stopping = True
        self.handoff.close()
        self._wake.set()
        if self._loop_task is not None:
            await self._loop_task
        if self._inflight:
            await asyncio.wait(list(self._inflight), timeout=grace)
        unfinished = [
            c.id for task, held in self._inflight.items() if not task.done() for c in held
        ]
        for task in list(self._inflight):
            task.cancel()
        if self._flush_timer is not None:
            self._flush_timer.cancel()  # the flush below takes everything
            self._flush_timer = None
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._inflight, return_exceptions=True)
        await self._flush()
        if unfinished:
            async with self.ctx.db.write() as conn:
                await deliveries.release(conn, unfinished, to_ms(self.ctx.clock()))
            log.info("released unfinished deliveries", count=len(unfinished))
        log.info("delivery worker stopped", pid=os.getpid(), **self.counts)

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self._flush()
                await self._reclaim_if_due()
                if self._look:
                    self._look = False
                    if await self._claim_and_start():
                        self._look = True  # more may be due than one round took
                        continue
                await self._sleep()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # A database hiccup must not kill delivery: log, back off, try again. An
                # outage (locked, unreachable) is a warning, as the API logs it; anything
                # else an error with its traceback.
                self._look = True
                if is_outage(exc):
                    log.warning("database unavailable; delivery retries", error=type(exc).__name__)
                else:
                    log.exception("delivery loop error; retrying")
                await asyncio.sleep(ERROR_BACKOFF_SECONDS)

    async def _reclaim_if_due(self) -> None:
        """Put back deliveries whose lease ran out (their worker died): checked every few
        seconds, so they are sent again soon after the lease, not up to half a lease later."""
        checked = time.monotonic()
        if checked < self._next_reclaim_check:
            return
        interval = min(RECLAIM_CHECK_SECONDS, self.settings.lease_seconds / 4)
        self._next_reclaim_check = checked + interval
        now_ms = to_ms(self.ctx.clock())
        async with self.ctx.db.read() as conn:
            earliest = await deliveries.earliest_lease(conn)
        if earliest is None or earliest >= now_ms:
            return
        async with self.ctx.db.write() as conn:
            count = await deliveries.reclaim_expired(conn, now_ms)
        if count:
            self._look = True
            log.info("reclaimed deliveries whose lease ran out", count=count, worker=self.name)

    def _limits(self, failing: int | None = None) -> Limits:
        """This worker's free slots; failing endpoints may hold at most half of them.

        ``failing``: the claims of failing endpoints held, when counted already (a claim round
        counts them before it waits for its write turn; meanwhile they can only fall)."""
        concurrency = self.settings.concurrency
        if failing is None:
            failing = self._failing_held()
        return Limits(
            budget=concurrency - self.handoff.in_flight,
            failing_budget=max(1, concurrency // 2) - failing,
            per_endpoint=self.settings.endpoint_concurrency,
        )

    def _failing_held(self) -> int:
        return sum(1 for claims in self._inflight.values() for c in claims if c.failing)

    async def _claim_and_start(self) -> int:
        if self._limits().budget <= 0:
            self._look_when_freed = True
            return 0
        started = time.monotonic()
        now = self.ctx.clock()
        lease = now + timedelta(seconds=self.settings.lease_seconds)
        failing = self._failing_held()  # only falls while the round runs: conservative
        self.counts["claim_rounds"] += 1

        def claim_round(conn: Connection, only: list[str] | None) -> RoundResult:
            # In the write turn: no create can hand off (and take slots) until it ends.
            limits = self._limits(failing)
            claims = scheduling.claim(conn, now, lease, limits, only) if limits.budget > 0 else []
            # Counted before the turn ends, so the next create sees these slots taken.
            self.handoff.started(c.endpoint_id for c in claims)
            counted.extend(claims)
            # Read here, in the transaction already open, rather than in a read of its own.
            messages = message_store.read_messages(conn, list({c.msg_id for c in claims}))
            endpoints = endpoint_store.read_endpoints(conn, list({c.endpoint_id for c in claims}))
            healthy_only = limits.failing_budget <= 0
            due_ms = scheduling.next_ready_ms(conn, healthy_only=healthy_only)
            return RoundResult(limits, claims, messages, endpoints, due_ms)

        counted: list[Claim] = []
        try:
            result = await self._claim_round(claim_round, failing)
        except BaseException:
            # The transaction did not commit: nothing was claimed, the slots are free again.
            self.handoff.finished(c.endpoint_id for c in counted)
            raise
        if result is None:
            return 0
        limits, claims = result.limits, result.claims
        messages, endpoints = result.messages, result.endpoints
        due_ms = result.next_ready_ms
        self._next_ready_s = None if due_ms is None else due_ms / 1000
        self.telemetry.claim_round(len(claims), limits.budget, time.monotonic() - started)
        # Short of slots: endpoints may still be ready, so look again when some free up.
        self._look_when_freed = len(claims) >= limits.budget or limits.failing_budget <= 0
        if not claims:
            return 0
        self.counts["claimed"] += len(claims)
        batches: dict[str, list[Claim]] = {}
        for claim in claims:
            endpoint = endpoints.get(claim.endpoint_id)
            if endpoint is not None and is_batched(endpoint.batch_size, endpoint.fifo):
                batches.setdefault(endpoint.id, []).append(claim)
                continue
            message = messages.get(claim.msg_id)
            if self.tracing is None:
                self._start(self._deliver(claim, message, endpoint), [claim])
            else:
                self._start(self._deliver_traced(self.tracing, claim, message, endpoint), [claim])
        for endpoint_id, held in batches.items():
            if self.tracing is None:
                self._start(self._deliver_batch(held, messages, endpoints[endpoint_id]), held)
            else:
                work = self._deliver_batch_traced(
                    self.tracing, held, messages, endpoints[endpoint_id]
                )
                self._start(work, held)
        return len(claims)

    async def _claim_round(self, claim_round: ClaimRound, failing: int) -> RoundResult | None:
        if self.dispatch is not None and self.dispatch.active:
            # The Redis queue index says which endpoints to look at (None: none read yet).
            return await self.dispatch.claim(claim_round, self._limits(failing))
        # One transaction; on SQLite one synchronous transaction for the whole round.
        # Acknowledges nothing: a claim lost to a power cut is claimed again (store.sqlite.writer).
        return await self.ctx.db.run_write(lambda conn: claim_round(conn, None), acknowledges=False)

    def _take_handed_off(self, items: list[HandedOff]) -> None:
        """Start deliveries a create transaction wrote already claimed (their slots are
        counted); called on the event loop right after that transaction committed."""
        if self._stopping:
            # A create that committed while the worker stopped: its rows stay claimed and are
            # taken back at the next start (or when their lease runs out), as after a crash.
            self.handoff.finished(item.claim.endpoint_id for item in items)
            return
        self.counts["handed_off"] += len(items)
        self.telemetry.handed_off(len(items))
        for item in items:
            if self.tracing is None:
                self._start(self._deliver(item.claim, item.message, item.endpoint), [item.claim])
            else:
                work = self._deliver_traced(self.tracing, item.claim, item.message, item.endpoint)
                self._start(work, [item.claim])

    def _start(self, work: Coroutine[Any, Any, None], claims: list[Claim]) -> None:
        """Run ``work`` for ``claims``, whose slots are already counted in ``handoff``."""
        if REQUEST_ID.get() is None:
            task = asyncio.create_task(work)
        else:
            # Handed off by a create's transaction, in the context of the request that led it:
            # the delivery is no part of that request (its line names its message's own).
            context = contextvars.copy_context()
            context.run(REQUEST_ID.set, None)
            task = asyncio.create_task(work, context=context)
        self._inflight[task] = claims
        task.add_done_callback(self._on_done)

    def _on_done(self, task: asyncio.Task[None]) -> None:
        claims = self._inflight.pop(task, [])
        self.handoff.finished(c.endpoint_id for c in claims)
        if self._look_when_freed:
            self._look = True
        if self._look or self._queued_behind or self._stopping:
            self._wake.set()
        elif self._flush_timer is None:
            delay = self._last_flush + FLUSH_DEBOUNCE_SECONDS - time.monotonic()
            loop = asyncio.get_running_loop()
            self._flush_timer = loop.call_later(max(0.0, delay), self._flush_due)

    def _flush_due(self) -> None:
        self._flush_timer = None
        self._wake.set()

    async def _sleep(self) -> None:
        timeout = self.settings.poll_interval
        # The earliest ready_at the last claim round saw; anything earlier marks ready and
        # wakes (or sets ``_look`` through a flush). With the queue index, Redis wakes the
        # worker when work is due.
        indexed = self.dispatch is not None and self.dispatch.active
        if self._next_ready_s is not None and self._limits().budget > 0 and not indexed:
            wait = self._next_ready_s - self.ctx.clock().timestamp()
            timeout = min(timeout, max(CONTENDED_SLEEP_SECONDS, wait))
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            self._look = True  # a due time passed, or the poll interval (other processes)
        delay = self._round_started + WAKE_DEBOUNCE_SECONDS - time.monotonic()
        if delay > 0 and self._wake.is_set() and not self._stopping:
            await asyncio.sleep(delay)
        self._wake.clear()
        self._round_started = time.monotonic()

    async def _deliver_traced(
        self, tracing: Tracing, claim: Claim, message: Message | None, endpoint: Endpoint | None
    ) -> None:
        """``_deliver`` in the attempt's span: a child of the span its message was created in
        (stored with it), so the trace goes on from the producer to the endpoint; the root of
        a trace of its own for a message stored without one."""
        parent = _trace_of(message)
        attributes: Attributes = {
            "hookd.app_id": claim.app_id,
            "hookd.endpoint_id": claim.endpoint_id,
            "hookd.message_id": claim.msg_id,
            "hookd.delivery_id": claim.id,
            "hookd.attempt.number": claim.attempts + 1,
        }
        with tracing.span("delivery attempt", "consumer", parent=parent, attributes=attributes):
            await self._deliver(claim, message, endpoint)

    async def _deliver(
        self, claim: Claim, message: Message | None, endpoint: Endpoint | None
    ) -> None:
        now = self.ctx.clock()
        if endpoint is None or message is None:
            return  # deleted meanwhile; its delivery row went with it
        if endpoint.disabled:
            result = AttemptResult.no_response("endpoint is disabled", failure=Failure.DISABLED)
        elif message.payload is None:
            result = AttemptResult.no_response("payload was expunged", failure=Failure.EXPUNGED)
        else:
            shaped = await delivery_shape(self.ctx, message, endpoint, now)
            out = await prepare_delivery(
                self.settings, self.ctx.sandbox, endpoint, shaped, self.telemetry
            )
            if isinstance(out, NotSent):
                self._record(
                    claim,
                    message,
                    endpoint,
                    out.result,
                    now,
                    cancel=out.cancelled,
                    transform_failed=not out.cancelled,
                )
                return
            style = self.settings.signature_headers
            headers = webhook_headers(
                style,
                out.endpoint,
                message.id,
                out.body,
                now,
                forwarded=out.forwarded,
                content_type=out.content_type,
            )
            headers[f"{style}-version"] = str(shaped.version)
            result = await self._post(out.endpoint, headers, out.body, method=out.method)
            self._record(claim, message, out.endpoint, result, now)
            self.outcomes.sent(endpoint, result.succeeded)
            return
        self._record(claim, message, endpoint, result, now, retryable=False)

    def _record(
        self,
        claim: Claim,
        message: Message,
        endpoint: Endpoint,
        result: AttemptResult,
        sent_at: datetime,
        *,
        retryable: bool = True,
        cancel: bool = False,
        transform_failed: bool = False,
    ) -> None:
        finished_at = self.ctx.clock()
        self.outcomes.record(
            claim,
            endpoint,
            result,
            sent_at,
            finished_at,
            retryable=retryable,
            cancel=cancel,
            transform_failed=transform_failed,
            request_id=message.request_id,
        )
        self.telemetry.attempt_finished(
            claim.app_id,
            claim.endpoint_id,
            result.status_code,
            result.duration_ms,
            result.succeeded,
            result.failure,
            destination_kind(endpoint.url),
            None if claim.manual else _due_since(message),
        )
        span = None if self.tracing is None else self.tracing.current()
        if span is not None:  # the attempt's span (its request's has ended)
            describe_attempt(span, result, cancelled=cancel)

    async def _post(
        self, endpoint: Endpoint, headers: dict[str, str], body: bytes, *, method: str = "POST"
    ) -> AttemptResult:
        """Send to a broker or over HTTP with the endpoint's credentials; with tracing on, in
        the request's span, whose trace context the endpoint receives (unless it opted out)."""
        if self.tracing is None:
            return await self._send(endpoint, headers, body, method)

        async def send(traced: Mapping[str, str]) -> AttemptResult:
            return await self._send(endpoint, traced, body, method)

        return await send_traced(self.tracing, endpoint, method, endpoint.url, headers, send)

    async def _send(
        self, endpoint: Endpoint, headers: Mapping[str, str], body: bytes, method: str
    ) -> AttemptResult:
        timeout = self.settings.request_timeout
        if is_destination_url(endpoint.url):
            return await self.brokers.send_to_url(endpoint.url, headers, body, timeout)
        return await self.auth.send(endpoint, method, endpoint.url, headers, body, timeout)

    async def _deliver_batch_traced(
        self,
        tracing: Tracing,
        claims: list[Claim],
        messages: Mapping[str, Message],
        endpoint: Endpoint,
    ) -> None:
        """``_deliver_batch`` in the attempt's span: one request for several messages, so the
        root of a trace of its own, linked to the span each message was created in."""
        traces = (_trace_of(messages.get(claim.msg_id)) for claim in claims)
        links = [trace for trace in traces if trace is not None]
        attributes: Attributes = {
            "hookd.app_id": endpoint.app_id,
            "hookd.endpoint_id": endpoint.id,
            "hookd.batch.size": len(claims),
        }
        with tracing.span(
            "delivery attempt", "consumer", parent=None, links=links, attributes=attributes
        ):
            await self._deliver_batch(claims, messages, endpoint)

    async def _deliver_batch(
        self, claims: list[Claim], messages: Mapping[str, Message], endpoint: Endpoint | None
    ) -> None:
        """One POST carrying the claimed messages as a JSON array, signed once; each delivery
        gets the request's result."""
        now = self.ctx.clock()
        if endpoint is None:
            return
        held = [(c, messages[c.msg_id]) for c in claims if c.msg_id in messages]
        batch = [(c, m) for c, m in held if m.payload is not None and not endpoint.disabled]
        for claim, message in held:
            if message.payload is None or endpoint.disabled:
                await self._deliver(claim, message, endpoint)  # fails it, unsent
        if not batch:
            return
        body = batch_body([message for _, message in batch])
        batch_id = ids.new_id(BATCH_ID_PREFIX, now)
        headers = webhook_headers(self.settings.signature_headers, endpoint, batch_id, body, now)
        result = await self._post(endpoint, headers, body)
        for claim, message in batch:
            self._record(claim, message, endpoint, result, now)
        self.outcomes.sent(endpoint, result.succeeded)

    async def _flush(self) -> None:
        if not self.outcomes.pending:
            return
        self.counts["flushes"] += 1
        self._last_flush = started = time.monotonic()
        finished = self.outcomes.finished
        marked = await self.outcomes.flush(self.ctx.db, self.ctx.clock())
        self.telemetry.outcomes_flushed(finished, time.monotonic() - started)
        self._queued_behind = marked
        if marked:
            self._look = True  # an endpoint with queued deliveries has a free slot


def _due_since(message: Message) -> datetime:
    """When the message's deliveries became due: its acceptance, or a later ``deliverAt``."""
    deliver_at = message.deliver_at
    if deliver_at is not None and deliver_at > message.created_at:
        return deliver_at
    return message.created_at


def _trace_of(message: Message | None) -> TraceContext | None:
    """The trace context of the span ``message`` was created in, if it was stored with one."""
    return None if message is None else TraceContext.of(message.traceparent, message.tracestate)
