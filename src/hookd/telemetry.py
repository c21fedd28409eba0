"""The telemetry seam: what hookd reports about its own work, to whoever listens.

hookd calls a :class:`Telemetry` at fixed points (an attempt finished, a claim round ran, a
group of creates committed, a request was answered, an inbound request was decided, a message
was accepted, a call was answered, a transformation ran, a circuit breaker opened or closed, an
endpoint was disabled, a message's retries ran out). The one given at start-up
(``engine.runtime.Runtime``) is :data:`NO_TELEMETRY` unless another is passed: its methods do
nothing, so the hot paths pay one call of an empty method.

Every argument is a plain value: ids, counts, statuses, durations. Never a secret, a payload, a
header or a URL, so an implementation may export all of it (metrics, traces, a log stream).
Implementations must be cheap and must not raise or block: they run on the event loop, inside
the delivery and request paths.

This module sits beside ``config``, outside the layers: every layer reports, and it imports
nothing of hookd. It also holds :data:`REQUEST_ID`, the id of the HTTP request being served
(``api.request_log`` sets it): every log line carries it, and what a request creates (a
message) keeps it.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime
from typing import Protocol

# The id of the HTTP request the current task serves (None outside a request: the worker, start-up).
REQUEST_ID: ContextVar[str | None] = ContextVar("hookd_request_id", default=None)


class Telemetry(Protocol):
    """The points hookd reports; see docs/architecture.md ("Telemetry seam")."""

    def attempt_finished(
        self,
        app_id: str,
        endpoint_id: str,
        status: int,
        duration_ms: int,
        succeeded: bool,
        failure: str | None,
        destination: str,
        due_since: datetime | None,
    ) -> None:
        """One delivery attempt ended. ``status``: the HTTP status, 0 when there was no
        response (connection error, timeout, transformation failed or cancelled, endpoint
        disabled, payload expunged); ``duration_ms``: the request's time as recorded;
        ``failure``: why there was no answer (a ``core.delivery.Failure`` value, None when
        answered); ``destination``: the endpoint's kind (``core.destinations.KINDS``);
        ``due_since``: when the message was accepted (or its ``deliverAt``, if later), None for
        a manual resend."""

    def claim_round(self, claimed: int, budget: int, duration_s: float) -> None:
        """The worker ran a claim round: ``claimed`` deliveries for ``budget`` free slots, in
        ``duration_s`` seconds (its write transaction included)."""

    def handed_off(self, count: int) -> None:
        """A create transaction handed ``count`` deliveries straight to the worker."""

    def outcomes_flushed(self, count: int, duration_s: float) -> None:
        """The worker recorded ``count`` finished attempts in one transaction."""

    def group_commit(self, kind: str, size: int, committed: bool, duration_s: float) -> None:
        """A group-commit transaction ended (``store.group_commit``): ``size`` requests shared
        it. ``kind``: ``"messages"`` (message creates), ``"ingest"`` (inbound requests), or
        ``"writes"`` (a committer that names no kind and is given no telemetry yet: the
        idempotency keys')."""

    def request_served(self, method: str, route: str, status: int, duration_s: float) -> None:
        """The server answered a request (``api.served``; the health port's probes are not
        counted). ``route``: the route's path template (e.g. ``/api/v1/app/{app_id}/msg/``),
        never the path with its ids; ``""`` when no route matched. ``status`` 0: no answer.
        Only wrapped around the server when a telemetry other than the no-op is given."""

    def ingest_outcome(
        self, source_id: str, outcome: str, code: str, status: int, source_type: str
    ) -> None:
        """A source's inbound request (``/in/{source}``) was recorded and answered ``status``.
        ``outcome``: ``"accepted"``, ``"duplicate"``, ``"rejected"``, ``"handshake"`` or
        ``"rate_limited"`` (refused too often: answered 429, not recorded); ``code``: the
        verification's code (e.g. ``"verified"``, ``"missing_header"``); ``source_type``: the
        source's type (``"stripe"``, ``"generic-webhook"``, ...)."""

    def message_accepted(self, app_id: str, origin: str) -> None:
        """A message was committed: ``origin`` ``"api"`` (a create) or ``"ingest"`` (an
        accepted inbound request)."""

    def call_finished(self, app_id: str, outcome: str, duration_s: float) -> None:
        """A synchronous call was answered (``services.calls.call``). ``outcome``: ``"success"``, or
        its error's code: ``"timeout"``, ``"call_failed"`` (no answer), ``"endpoint_error"``
        (answered, not 2xx); ``duration_s``: from the request to the recorded outcome."""

    def transformation_finished(self, outcome: str, duration_s: float) -> None:
        """An endpoint's transformation ran before a delivery. ``outcome``: ``"transformed"``,
        ``"cancelled"``, or the failure's kind (``core.transformations.ErrorKind``:
        ``"timeout"``, ``"memory"``, ``"runtime"``, ...)."""

    def alert_issues_open(self, count: int) -> None:
        """The alert evaluator (the lease holder) evaluated the rules: ``count`` issues are
        unresolved now (open or acknowledged)."""

    def breaker_changed(self, app_id: str, endpoint_id: str, opened: bool) -> None:
        """An endpoint's circuit breaker opened (``opened``: its consecutive failures reached
        ``HOOKD_BREAKER_FAILURES``) or closed again (an attempt succeeded). A probe that fails
        keeps it open: no report."""

    def endpoint_disabled(self, app_id: str, endpoint_id: str, reason: str) -> None:
        """The worker disabled an endpoint. ``reason``: ``"failing"`` (it failed for
        ``HOOKD_DISABLE_AFTER`` seconds) or ``"receiver"`` (it answered 410 or
        ``webhook-delivery: disable``)."""

    def message_exhausted(self, app_id: str, endpoint_id: str) -> None:
        """A message's delivery to an endpoint failed for good: its last attempt failed and no
        retry is left (the schedule ran out, or the receiver answered 410 or
        ``webhook-delivery: abort-message``). Reported once the outcome is recorded."""


class NoTelemetry:
    """The default: every report does nothing."""

    __slots__ = ()

    def attempt_finished(
        self,
        app_id: str,
        endpoint_id: str,
        status: int,
        duration_ms: int,
        succeeded: bool,
        failure: str | None,
        destination: str,
        due_since: datetime | None,
    ) -> None:
        return None

    def claim_round(self, claimed: int, budget: int, duration_s: float) -> None:
        return None

    def handed_off(self, count: int) -> None:
        return None

    def outcomes_flushed(self, count: int, duration_s: float) -> None:
        return None

    def group_commit(self, kind: str, size: int, committed: bool, duration_s: float) -> None:
        return None

    def request_served(self, method: str, route: str, status: int, duration_s: float) -> None:
        return None

    def ingest_outcome(
        self, source_id: str, outcome: str, code: str, status: int, source_type: str
    ) -> None:
        return None

    def message_accepted(self, app_id: str, origin: str) -> None:
        return None

    def call_finished(self, app_id: str, outcome: str, duration_s: float) -> None:
        return None

    def transformation_finished(self, outcome: str, duration_s: float) -> None:
        return None

    def alert_issues_open(self, count: int) -> None:
        return None

    def breaker_changed(self, app_id: str, endpoint_id: str, opened: bool) -> None:
        return None

    def endpoint_disabled(self, app_id: str, endpoint_id: str, reason: str) -> None:
        return None

    def message_exhausted(self, app_id: str, endpoint_id: str) -> None:
        return None


NO_TELEMETRY: Telemetry = NoTelemetry()
