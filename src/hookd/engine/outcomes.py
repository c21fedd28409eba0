"""Finished attempts waiting to be written: what each one means, and the flush that writes them.

The worker records every attempt here as it ends (``record``, pure bookkeeping: the retry step,
the attempt row) and flushes the lot in one transaction: attempts and deliveries
(``store.deliveries.finish``), the endpoints' breakers, operational webhooks about the outcomes,
endpoints to disable, and the attempts' counts on their endpoints' minutes (``store.rollups``).
A flush that fails keeps everything for the next one; the deliveries' leases stay valid
meanwhile.

The log lines of delivery (docs/observability.md, "Logs") are written here: one warning per
failed attempt as it is recorded; after a flush committed, one per message whose retries ran out,
per circuit that opened or closed and per endpoint disabled (also reported to the telemetry:
``message_exhausted``, ``breaker_changed``, ``endpoint_disabled``). A successful attempt is
logged at debug level only.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Connection

from hookd import ids
from hookd.config import Settings
from hookd.core.breaker import Health, run_outcomes
from hookd.core.delivery import AttemptResult, next_step
from hookd.core.domain import Attempt, Claim, DeliveryStatus, Endpoint, TriggerType
from hookd.services import operational
from hookd.store import deliveries, endpoint_health, rollups
from hookd.store import endpoints as endpoint_store
from hookd.store.attempts import attempt_row
from hookd.store.codec import to_ms
from hookd.store.db import Database
from hookd.store.deliveries import Finish
from hookd.store.rollups import attempt_fact
from hookd.telemetry import NO_TELEMETRY, Telemetry

log = structlog.get_logger("hookd.worker")
# ``outcome`` of an attempt's log line: what happens to its delivery next.
RETRYING = "retrying"
FAILED = "failed"  # no attempt is left
CANCELED = "canceled"  # a transformation cancelled it
SUCCEEDED = "succeeded"
EVENTS = {
    SUCCEEDED: "attempt succeeded",
    RETRYING: "attempt failed",
    FAILED: "attempt failed",
    CANCELED: "attempt canceled",
}
# Why the worker disabled an endpoint (``Telemetry.endpoint_disabled``).
FAILING = "failing"  # it failed for HOOKD_DISABLE_AFTER seconds
RECEIVER = "receiver"  # it answered 410, or webhook-delivery: disable


@dataclass(frozen=True, slots=True)
class Exhausted:
    """A delivery whose last attempt failed with no retry left (logged after the flush)."""

    app_id: str
    endpoint_id: str
    msg_id: str
    attempts: int
    request_id: str | None


@dataclass(frozen=True, slots=True)
class Flushed:
    """What a flush's transaction changed besides the deliveries."""

    marked: bool  # a claim round may find work
    opened: list[str]  # endpoints whose circuit opened
    closed: list[str]  # endpoints whose circuit closed
    disabled: dict[str, str]  # endpoints disabled now (id: app id)


class Outcomes:
    """The attempts that ended since the last flush."""

    def __init__(
        self, settings: Settings, rng: random.Random, telemetry: Telemetry = NO_TELEMETRY
    ) -> None:
        self.settings = settings
        self.schedule = settings.schedule
        self.rng = rng
        self.telemetry = telemetry
        self._finished: list[Finish] = []
        self._sends: list[tuple[str, bool]] = []  # (endpoint id, succeeded) of each send
        self._to_disable: set[str] = set()
        self._exhausted: list[Exhausted] = []
        self._app_of: dict[str, str] = {}  # endpoint id: app id, of ``_sends``
        # Checked once: a successful attempt's debug line costs nothing when debug is off.
        self._log_successes = log.is_enabled_for(logging.DEBUG)

    @property
    def pending(self) -> bool:
        return bool(self._finished or self._to_disable)

    @property
    def finished(self) -> int:
        """Finished attempts waiting to be recorded."""
        return len(self._finished)

    def sent(self, endpoint: Endpoint, succeeded: bool) -> None:
        """A request reached (or failed to reach) the endpoint: input to its breaker."""
        self._sends.append((endpoint.id, succeeded))
        self._app_of[endpoint.id] = endpoint.app_id

    def record(
        self,
        claim: Claim,
        endpoint: Endpoint,
        result: AttemptResult,
        sent_at: datetime,
        finished_at: datetime,
        *,
        retryable: bool,
        cancel: bool = False,
        transform_failed: bool = False,
        request_id: str | None = None,
    ) -> None:
        """What the attempt means for its delivery (retry when, fail, cancel) and its row;
        ``transform_failed``: the endpoint's transformation failed (nothing was sent);
        ``request_id``: the request that created the message, for the log line."""
        attempts_made = claim.attempts + 1
        if cancel:
            step_status, next_at, disable = DeliveryStatus.CANCELED, None, False
        elif not retryable:
            step_status, next_at, disable = DeliveryStatus.FAIL, None, False
        else:
            step = next_step(result, attempts_made, self.schedule, finished_at, self.rng)
            step_status, next_at, disable = step.status, step.next_attempt_at, step.disable_endpoint
        if disable:
            self._to_disable.add(endpoint.id)
        attempt = Attempt(
            id=ids.new_id(ids.ATTEMPT, sent_at),
            msg_id=claim.msg_id,
            endpoint_id=claim.endpoint_id,
            app_id=claim.app_id,
            url=endpoint.url,
            status=DeliveryStatus.CANCELED
            if cancel
            else (DeliveryStatus.SUCCESS if result.succeeded else DeliveryStatus.FAIL),
            response_status_code=result.status_code,
            response=result.excerpt(),
            response_duration_ms=result.duration_ms,
            trigger_type=TriggerType.MANUAL if claim.manual else TriggerType.SCHEDULED,
            attempt_number=attempts_made,
            created_at=sent_at,
        )
        self._finished.append(
            Finish(
                delivery_id=claim.id,
                status=step_status,
                attempts=attempts_made,
                next_attempt_ms=to_ms(next_at) if next_at else None,
                attempt_row=attempt_row(attempt),
                transform_failed=transform_failed,
            )
        )
        if result.succeeded and not cancel:
            if self._log_successes:
                _log_attempt(log.debug, attempt, SUCCEEDED, result, next_at, request_id)
            return
        if cancel:
            _log_attempt(log.info, attempt, CANCELED, result, None, request_id)
            return
        failed = step_status == DeliveryStatus.FAIL
        _log_attempt(
            log.warning, attempt, FAILED if failed else RETRYING, result, next_at, request_id
        )
        if failed and retryable:  # sent, and no retry left (unsent ones used none)
            self._exhausted.append(
                Exhausted(claim.app_id, claim.endpoint_id, claim.msg_id, attempts_made, request_id)
            )

    async def flush(self, db: Database, now: datetime) -> bool:
        """Write everything recorded in one transaction; True if that made an endpoint with
        queued deliveries (or a new operational webhook) ready: a claim round may find work."""
        batch, self._finished = self._finished, []
        sends, self._sends = self._sends, []
        disable, self._to_disable = self._to_disable, set()
        exhausted, self._exhausted = self._exhausted, []
        app_of, self._app_of = self._app_of, {}

        def write(conn: Connection) -> Flushed:
            marked = deliveries.finish(conn, batch, to_ms(now))
            failing, opened, closed = self._update_health(conn, sends, now)
            to_disable = disable | failing
            # Operational webhooks about these outcomes are new deliveries: look for them.
            marked |= operational.after_attempts(conn, batch, to_disable, now) > 0
            disabled = endpoint_store.disable_endpoints(conn, sorted(to_disable), to_ms(now))
            # Last: counter rows after the endpoints' state rows (the lock order of calls too).
            rollups.add_attempts(conn, map(attempt_fact, batch))
            return Flushed(marked, opened, closed, disabled)

        try:
            # One transaction; on SQLite one synchronous transaction.
            # Acknowledges nothing: outcomes lost to a power cut mean the deliveries are sent
            # again (at least once; store.sqlite.writer).
            flushed = await db.run_write(write, acknowledges=False)
        except BaseException:
            self._finished = batch + self._finished
            self._sends = sends + self._sends
            self._to_disable |= disable
            self._exhausted = exhausted + self._exhausted
            self._app_of = app_of | self._app_of
            raise
        self._report(flushed, exhausted, disable, app_of)
        return flushed.marked

    def _report(
        self,
        flushed: Flushed,
        exhausted: list[Exhausted],
        by_receiver: set[str],
        app_of: dict[str, str],
    ) -> None:
        """Log (and report) what a committed flush changed: rare events, one line each."""
        telemetry = self.telemetry
        for gone in exhausted:
            log.warning(
                "message exhausted",
                msg_id=gone.msg_id,
                endpoint_id=gone.endpoint_id,
                app_id=gone.app_id,
                attempts=gone.attempts,
                **({"request_id": gone.request_id} if gone.request_id else {}),
            )
            telemetry.message_exhausted(gone.app_id, gone.endpoint_id)
        for endpoint_id in flushed.opened:
            app_id = app_of.get(endpoint_id, "")
            log.warning(
                "circuit opened",
                endpoint_id=endpoint_id,
                app_id=app_id,
                failures=self.settings.breaker_failures,
                cooldown_s=self.settings.breaker_cooldown,
            )
            telemetry.breaker_changed(app_id, endpoint_id, True)
        for endpoint_id in flushed.closed:
            app_id = app_of.get(endpoint_id, "")
            log.info("circuit closed", endpoint_id=endpoint_id, app_id=app_id)
            telemetry.breaker_changed(app_id, endpoint_id, False)
        for endpoint_id, app_id in sorted(flushed.disabled.items()):
            reason = RECEIVER if endpoint_id in by_receiver else FAILING
            log.warning("endpoint disabled", endpoint_id=endpoint_id, app_id=app_id, reason=reason)
            telemetry.endpoint_disabled(app_id, endpoint_id, reason)

    def _update_health(
        self, conn: Connection, sends: list[tuple[str, bool]], now: datetime
    ) -> tuple[set[str], list[str], list[str]]:
        """Run the batch's sends through each endpoint's breaker; return those to disable, and
        those whose circuit opened and closed."""
        if not sends:
            return set(), [], []
        before = endpoint_health.load_health(conn, list({eid for eid, _ in sends}))
        changed, disable = run_outcomes(before, sends, now, self.settings.breaker)
        endpoint_health.save_health(conn, changed)
        opened, closed = circuit_changes(before, changed)
        return disable, opened, closed


def circuit_changes(
    before: Mapping[str, Health], changed: Mapping[str, Health]
) -> tuple[list[str], list[str]]:
    """The endpoints whose circuit opened, and those whose circuit closed (a failed probe keeps
    it open: neither)."""
    opened, closed = [], []
    for endpoint_id, after in sorted(changed.items()):
        was_open = before.get(endpoint_id, Health()).open_until is not None
        if after.open_until is not None and not was_open:
            opened.append(endpoint_id)
        elif after.open_until is None and was_open:
            closed.append(endpoint_id)
    return opened, closed


def _log_attempt(
    write: Callable[..., Any],
    attempt: Attempt,
    outcome: str,
    result: AttemptResult,
    next_at: datetime | None,
    request_id: str | None,
) -> None:
    """An attempt's line: ids, outcome, status, duration; never its URL, headers or bodies."""
    extra: dict[str, Any] = {}
    if result.error is not None:
        extra["error"] = result.error
    if next_at is not None:
        extra["next_attempt_at"] = next_at.isoformat()
    if request_id is not None:
        extra["request_id"] = request_id
    write(
        EVENTS[outcome],
        msg_id=attempt.msg_id,
        endpoint_id=attempt.endpoint_id,
        app_id=attempt.app_id,
        attempt_id=attempt.id,
        attempt=attempt.attempt_number,
        outcome=outcome,
        status=result.status_code,
        duration_ms=result.duration_ms,
        **extra,
    )
