"""Delivery decisions: what an attempt's result means and what happens next.

Pure: the sender hands in what the receiver answered (or why nothing was answered); these
functions say whether the message landed, when to try again, and whether to disable the endpoint.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from hookd.core.domain import DeliveryStatus
from hookd.core.retry import RetrySchedule, parse_retry_after

# What is stored of a response body; what is read of it at most.
RESPONSE_EXCERPT_BYTES = 20_000
RESPONSE_READ_LIMIT = 64 * 1024
# Values of the ``webhook-delivery`` response header (as Svix honours them).
DISABLE = "disable"  # disable the endpoint
ABORT_MESSAGE = "abort-message"  # stop retrying this message


class Failure(StrEnum):
    """Why an attempt got no answer (or was not sent): a bounded class, set where it happened,
    for telemetry (``hookd_delivery_attempts_total``'s ``outcome``). An answered attempt has
    none; its status says how it went."""

    TIMEOUT = "timeout"  # no answer within the deadline
    CONNECTION = "connection"  # no connection: refused, reset, unreachable, name not resolved
    TLS = "tls"  # the TLS handshake or session failed
    REFUSED = "refused"  # the SSRF guard refused the destination
    REJECTED = "rejected"  # a broker answered but did not take the message
    TRANSFORMATION = "transformation"  # the endpoint's transformation failed
    CANCELLED = "cancelled"  # the endpoint's transformation cancelled the delivery
    DISABLED = "disabled"  # the endpoint is disabled
    EXPUNGED = "expunged"  # the payload was expunged
    ERROR = "error"  # anything else: an invalid URL, a broken response, a client library error


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one HTTP attempt produced. ``status_code`` is 0 when no response arrived."""

    status_code: int
    body: bytes
    duration_ms: int
    error: str | None = None
    retry_after: str | None = None
    headers: tuple[tuple[str, str], ...] = ()  # the response's headers, as received
    timed_out: bool = False
    # The receiver's ``webhook-delivery`` response header: ``disable`` or ``abort-message``.
    delivery_control: str | None = None
    # Why there was no answer (None: answered, or not known; with ``error`` that counts as
    # Failure.ERROR).
    failure: Failure | None = None

    @classmethod
    def no_response(
        cls,
        error: str,
        duration_ms: int = 0,
        *,
        failure: Failure,
        timed_out: bool = False,
    ) -> AttemptResult:
        """An attempt that got no answer (or was never made), saying why and its class."""
        return cls(0, b"", duration_ms, error=error, timed_out=timed_out, failure=failure)

    @property
    def succeeded(self) -> bool:
        # Only 2xx counts; 3xx is a failure because redirects are never followed.
        return self.error is None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.error is None and self.status_code == 410

    def excerpt(self) -> str:
        """The response text kept on the attempt record: the error, or the body's first 20 KB."""
        if self.error is not None:
            return self.error
        return self.body[:RESPONSE_EXCERPT_BYTES].decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class NextStep:
    status: DeliveryStatus
    next_attempt_at: datetime | None
    disable_endpoint: bool = False


def next_step(
    result: AttemptResult,
    attempts_made: int,
    schedule: RetrySchedule,
    now: datetime,
    rng: random.Random,
) -> NextStep:
    """Decide a delivery's state after its ``attempts_made``-th attempt produced ``result``."""
    control = (result.delivery_control or "").strip().lower()
    if control == DISABLE:
        status = DeliveryStatus.SUCCESS if result.succeeded else DeliveryStatus.FAIL
        return NextStep(status, None, disable_endpoint=True)
    if result.succeeded:
        return NextStep(DeliveryStatus.SUCCESS, None)
    if result.gone:
        # Standard Webhooks: 410 means the receiver wants no more; stop and disable the endpoint.
        return NextStep(DeliveryStatus.FAIL, None, disable_endpoint=True)
    if control == ABORT_MESSAGE:
        return NextStep(DeliveryStatus.FAIL, None)
    retry_after = parse_retry_after(result.retry_after, now)
    delay = schedule.next_delay(attempts_made, rng, retry_after)
    if delay is None:
        return NextStep(DeliveryStatus.FAIL, None)
    return NextStep(DeliveryStatus.PENDING, now + timedelta(seconds=delay))
