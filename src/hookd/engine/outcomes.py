"""Finished attempts waiting to be written: what each one means, and the flush that writes them.

The worker records every attempt here as it ends (``record``, pure bookkeeping: the retry step,
the attempt row) and flushes the lot in one transaction: attempts and deliveries
(``store.deliveries.finish``), the endpoints' breakers, operational webhooks about the outcomes,
endpoints to disable, and the attempts' counts on their endpoints' minutes (``store.rollups``).
A flush that fails keeps everything for the next one; the deliveries' leases stay valid
meanwhile.
"""

from __future__ import annotations

import random
from datetime import datetime

import structlog
from sqlalchemy import Connection

from hookd import ids
from hookd.config import Settings
from hookd.core.breaker import run_outcomes
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

log = structlog.get_logger("hookd.worker")


class Outcomes:
    """The attempts that ended since the last flush."""

    def __init__(self, settings: Settings, rng: random.Random) -> None:
        self.settings = settings
        self.schedule = settings.schedule
        self.rng = rng
        self._finished: list[Finish] = []
        self._sends: list[tuple[str, bool]] = []  # (endpoint id, succeeded) of each send
        self._to_disable: set[str] = set()

    @property
    def pending(self) -> bool:
        return bool(self._finished or self._to_disable)

    @property
    def finished(self) -> int:
        """Finished attempts waiting to be recorded."""
        return len(self._finished)

    def sent(self, endpoint_id: str, succeeded: bool) -> None:
        """A request reached (or failed to reach) the endpoint: input to its breaker."""
        self._sends.append((endpoint_id, succeeded))

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
    ) -> None:
        """What the attempt means for its delivery (retry when, fail, cancel) and its row;
        ``transform_failed``: the endpoint's transformation failed (nothing was sent)."""
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

    async def flush(self, db: Database, now: datetime) -> bool:
        """Write everything recorded in one transaction; True if that made an endpoint with
        queued deliveries (or a new operational webhook) ready: a claim round may find work."""
        batch, self._finished = self._finished, []
        sends, self._sends = self._sends, []
        disable, self._to_disable = self._to_disable, set()

        def write(conn: Connection) -> tuple[bool, set[str]]:
            marked = deliveries.finish(conn, batch, to_ms(now))
            to_disable = disable | self._update_health(conn, sends, now)
            # Operational webhooks about these outcomes are new deliveries: look for them.
            marked |= operational.after_attempts(conn, batch, to_disable, now) > 0
            endpoint_store.disable_endpoints(conn, sorted(to_disable), to_ms(now))
            # Last: counter rows after the endpoints' state rows (the lock order of calls too).
            rollups.add_attempts(conn, map(attempt_fact, batch))
            return marked, to_disable

        try:
            # One transaction; on SQLite one synchronous transaction.
            # Acknowledges nothing: outcomes lost to a power cut mean the deliveries are sent
            # again (at least once; store.sqlite.writer).
            marked, disabled = await db.run_write(write, acknowledges=False)
        except BaseException:
            self._finished = batch + self._finished
            self._sends = sends + self._sends
            self._to_disable |= disable
            raise
        if disabled:
            log.info("endpoints disabled", endpoints=sorted(disabled))
        return marked

    def _update_health(
        self, conn: Connection, sends: list[tuple[str, bool]], now: datetime
    ) -> set[str]:
        """Run the batch's sends through each endpoint's breaker; return those to disable."""
        if not sends:
            return set()
        before = endpoint_health.load_health(conn, list({eid for eid, _ in sends}))
        changed, disable = run_outcomes(before, sends, now, self.settings.breaker)
        endpoint_health.save_health(conn, changed)
        return disable
