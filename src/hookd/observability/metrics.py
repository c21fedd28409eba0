"""Prometheus metrics: a :class:`~hookd.telemetry.Telemetry` counting what hookd reports.

:class:`MetricsTelemetry` turns each report into counters and histograms of ``prometheus_client``
(names and labels: docs/observability.md, "Metrics"). Every label value is bounded: outcome
classes, destination kinds, source types, route templates, never a message or endpoint id. The
application id is a label only with ``HOOKD_METRICS_APP_LABELS``, for at most
``HOOKD_METRICS_APP_LABEL_LIMIT`` applications (the rest count as ``other``). The label
children of the hot points are bound once and kept in dicts keyed by plain tuples, so a report
is a dict lookup and an increment, not a ``labels()`` call.

What is in the database (due deliveries, endpoints by state, open alert issues) is read when
metrics are scraped (:class:`StateCollector`), at most once a second, with queries that use an
index (``store.backlog``).

A server's delivery processes (``HOOKD_DELIVERY_PROCESSES``) count in children of the serving
process. Each child writes its metrics to memory-mapped files (``prometheus_client``'s
multiprocess mode) in a directory private to the serving process (made fresh at its start,
removed when it stops, handed to the children in :data:`CHILD_DIR_ENV`); the serving process
keeps its own in memory (no file write per increment on the busiest process) and sums the
children's files into its answer (:class:`ProcessesCollector`). A counter of a child that exited
stays in the sum, so the totals never go down when a child is restarted.

:func:`running` serves the metrics while a process runs: on ``HOOKD_METRICS_ADDRESS`` (a
listener thread of ``prometheus_client``, no authentication) and, through ``api.metrics``,
on the API port behind the admin token.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import structlog
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.metrics import disable_created_metrics
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from hookd.config import Settings, metrics_listen_address
from hookd.core.delivery import Failure
from hookd.core.destinations import KINDS
from hookd.engine.delivery_processes import PARENT_PIPE_ENV
from hookd.engine.outcomes import FAILING, RECEIVER
from hookd.store import backlog as backlog_store
from hookd.store.alerts import records as alert_records
from hookd.store.codec import to_ms
from hookd.store.db import Database
from hookd.telemetry import Telemetry

if TYPE_CHECKING:
    from hookd.engine.runtime import Runtime

log = structlog.get_logger("hookd.metrics")

# Handed to the delivery processes: the directory their metrics files go to.
CHILD_DIR_ENV = "HOOKD_METRICS_CHILD_DIR"
MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"  # read by prometheus_client's file values
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# The database is read at most this often, however often metrics are scraped.
STATE_REFRESH_SECONDS = 1.0
# How long a scrape on HOOKD_METRICS_ADDRESS waits for that read.
STATE_TIMEOUT_SECONDS = 5.0
OTHER_APP = "other"

# The outcome of a delivery attempt: success, how the receiver answered otherwise, or why
# there was no answer (core.delivery.Failure).
SUCCESS, HTTP_4XX, HTTP_5XX, HTTP_OTHER = "success", "http_4xx", "http_5xx", "http_other"
ATTEMPT_OUTCOMES: tuple[str, ...] = (
    SUCCESS,
    HTTP_4XX,
    HTTP_5XX,
    HTTP_OTHER,
    *(failure.value for failure in Failure),
)
MESSAGE_ORIGINS = ("api", "ingest")
CALL_OUTCOMES = ("success", "timeout", "call_failed", "endpoint_error")
TRANSFORMATION_OUTCOMES = (
    "transformed",
    "cancelled",
    "code",
    "syntax",
    "runtime",
    "timeout",
    "memory",
    "output",
)
GROUP_KINDS = ("messages", "ingest", "writes")
# The state an endpoint's circuit breaker went to (``Telemetry.breaker_changed``).
BREAKER_OPEN, BREAKER_CLOSED = "open", "closed"
DISABLE_REASONS = (FAILING, RECEIVER)  # why the worker disabled an endpoint
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"

# Histogram buckets, in seconds unless named otherwise.
ATTEMPT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
DATABASE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5)
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)
TRANSFORM_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30)
SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)

ChildT = TypeVar("ChildT")


async def alert_issues_open(db: Database) -> int:
    """How many alert issues are open or acknowledged, for ``hookd_alert_issues_open``: read
    from the database like the other state gauges, so every process answers the same."""
    async with db.read() as conn:
        return await alert_records.count_unresolved(conn)


class MetricsTelemetry:
    """The telemetry that counts: every point of ``hookd.telemetry`` feeds metrics.

    ``registry``: where the metrics are registered (a private one by default). ``app_labels``:
    label the per-message metrics with the application id, for ``app_label_limit`` of them.
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        app_labels: bool = False,
        app_label_limit: int = 100,
    ) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # ``_created`` series would not sum across processes
        self.registry = registry = registry or CollectorRegistry(auto_describe=True)
        self.exporter: Exporter | None = None  # set in a process that answers scrapes
        self.app_labels = app_labels
        self._app_limit = app_label_limit
        self._apps: set[str] = set()
        app = ("app",) if app_labels else ()

        def counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
            return Counter(name, doc, labels, registry=registry)

        def histogram(
            name: str, doc: str, buckets: tuple[float, ...], labels: tuple[str, ...] = ()
        ) -> Histogram:
            return Histogram(name, doc, labels, registry=registry, buckets=buckets)

        self.messages = counter(
            "hookd_messages_accepted", "Messages committed, by origin.", ("origin", *app)
        )
        self.attempts = counter(
            "hookd_delivery_attempts",
            "Delivery attempts finished, by outcome and destination kind.",
            ("outcome", "destination", *app),
        )
        self.attempt_seconds = histogram(
            "hookd_delivery_attempt_duration_seconds",
            "Time of one delivery attempt (the request, or the publish to a broker).",
            ATTEMPT_BUCKETS,
            ("destination",),
        )
        self.latency = histogram(
            "hookd_delivery_latency_seconds",
            "From a message's acceptance (or its deliverAt) to its successful delivery.",
            LATENCY_BUCKETS,
            ("destination",),
        )
        self.ingest = counter(
            "hookd_ingest_requests",
            "Inbound requests to /in/{source}, by source type, outcome and verification code.",
            ("source_type", "outcome", "code"),
        )
        self.calls = counter("hookd_calls", "Synchronous calls, by outcome.", ("outcome", *app))
        self.call_seconds = histogram(
            "hookd_call_duration_seconds",
            "Time of a synchronous call, from the request to its recorded outcome.",
            ATTEMPT_BUCKETS,
            ("outcome",),
        )
        self.group_sizes = histogram(
            "hookd_group_commit_size",
            "Writes sharing one group-commit transaction.",
            SIZE_BUCKETS,
            ("kind",),
        )
        self.group_seconds = histogram(
            "hookd_group_commit_duration_seconds",
            "Database time of a group-commit transaction.",
            DATABASE_BUCKETS,
            ("kind",),
        )
        self.group_failures = counter(
            "hookd_group_commit_failures",
            "Group-commit transactions that did not commit.",
            ("kind",),
        )
        self.flush_sizes = histogram(
            "hookd_outcome_flush_size",
            "Finished attempts recorded in one transaction by a worker.",
            SIZE_BUCKETS,
        )
        self.flush_seconds = histogram(
            "hookd_outcome_flush_duration_seconds",
            "Database time of a worker's transaction recording finished attempts.",
            DATABASE_BUCKETS,
        )
        self.claim_rounds = counter("hookd_claim_rounds", "Claim rounds run by the workers.")
        self.claim_seconds = histogram(
            "hookd_claim_round_duration_seconds",
            "Time of a claim round, its write transaction included.",
            DATABASE_BUCKETS,
        )
        self.claimed = counter("hookd_claimed_deliveries", "Deliveries claimed in claim rounds.")
        self.handed_off_total = counter(
            "hookd_handed_off_deliveries",
            "Deliveries a create handed straight to the worker, without a claim round.",
        )
        self.transformations = counter(
            "hookd_transformations",
            "Endpoint transformations run, by outcome (or the failure's kind).",
            ("outcome",),
        )
        self.transform_seconds = histogram(
            "hookd_transformation_duration_seconds",
            "Time of an endpoint transformation in the sandbox.",
            TRANSFORM_BUCKETS,
        )
        self.breaker_transitions = counter(
            "hookd_breaker_transitions",
            "Endpoints' circuit breakers opening and closing, by the state they went to.",
            ("state",),
        )
        self.endpoints_disabled = counter(
            "hookd_endpoints_disabled",
            "Endpoints the worker disabled, by reason.",
            ("reason",),
        )
        self.exhausted = counter(
            "hookd_messages_exhausted",
            "Deliveries of a message to an endpoint that failed for good (no retry left).",
        )
        self.requests = counter(
            "hookd_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ("method", "route", "code"),
        )
        self.request_seconds = histogram(
            "hookd_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            REQUEST_BUCKETS,
            ("route",),
        )
        # The hot points' children, bound once (the per-application ones when first seen).
        self._attempts: dict[tuple[str, ...], Counter] = {}
        self._messages: dict[tuple[str, ...], Counter] = {}
        self._calls: dict[tuple[str, ...], Counter] = {}
        if not app_labels:
            for outcome in ATTEMPT_OUTCOMES:
                for kind in KINDS:
                    self._attempts[(outcome, kind)] = self.attempts.labels(outcome, kind)
            for origin in MESSAGE_ORIGINS:
                self._messages[(origin,)] = self.messages.labels(origin)
            for outcome in CALL_OUTCOMES:
                self._calls[(outcome,)] = self.calls.labels(outcome)
        self._attempt_seconds = {kind: self.attempt_seconds.labels(kind) for kind in KINDS}
        self._latency = {kind: self.latency.labels(kind) for kind in KINDS}
        self._call_seconds = {o: self.call_seconds.labels(o) for o in CALL_OUTCOMES}
        self._group_sizes = {k: self.group_sizes.labels(k) for k in GROUP_KINDS}
        self._group_seconds = {k: self.group_seconds.labels(k) for k in GROUP_KINDS}
        self._group_failures = {k: self.group_failures.labels(k) for k in GROUP_KINDS}
        self._transformations = {o: self.transformations.labels(o) for o in TRANSFORMATION_OUTCOMES}
        self._opened = self.breaker_transitions.labels(BREAKER_OPEN)
        self._closed = self.breaker_transitions.labels(BREAKER_CLOSED)
        self._disabled = {r: self.endpoints_disabled.labels(r) for r in DISABLE_REASONS}
        self._ingest: dict[tuple[str, str, str], Counter] = {}
        self._requests: dict[tuple[str, str, int], Counter] = {}
        self._request_seconds: dict[str, Histogram] = {}

    # -- the application label --------------------------------------------------------------

    def _app(self, app_id: str) -> str:
        """The label of an application: its id for the first ``app_label_limit`` seen."""
        apps = self._apps
        if app_id in apps:
            return app_id
        if len(apps) < self._app_limit:
            apps.add(app_id)
            return app_id
        return OTHER_APP

    # -- Telemetry ---------------------------------------------------------------------------

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
        if succeeded:
            outcome = SUCCESS
        elif failure is not None:
            outcome = failure
        elif 400 <= status < 500:
            outcome = HTTP_4XX
        elif status >= 500:
            outcome = HTTP_5XX
        elif status:
            outcome = HTTP_OTHER
        else:
            outcome = Failure.ERROR
        if self.app_labels:
            key: tuple[str, ...] = (outcome, destination, self._app(app_id))
        else:
            key = (outcome, destination)
        _child(self._attempts, self.attempts, key).inc()
        _child(self._attempt_seconds, self.attempt_seconds, destination).observe(duration_ms / 1000)
        if succeeded and due_since is not None:
            _child(self._latency, self.latency, destination).observe(
                max(0.0, time.time() - due_since.timestamp())
            )

    def claim_round(self, claimed: int, budget: int, duration_s: float) -> None:
        self.claim_rounds.inc()
        self.claim_seconds.observe(duration_s)
        if claimed:
            self.claimed.inc(claimed)

    def handed_off(self, count: int) -> None:
        self.handed_off_total.inc(count)

    def outcomes_flushed(self, count: int, duration_s: float) -> None:
        self.flush_sizes.observe(count)
        self.flush_seconds.observe(duration_s)

    def group_commit(self, kind: str, size: int, committed: bool, duration_s: float) -> None:
        _child(self._group_sizes, self.group_sizes, kind).observe(size)
        _child(self._group_seconds, self.group_seconds, kind).observe(duration_s)
        if not committed:
            _child(self._group_failures, self.group_failures, kind).inc()

    def request_served(self, method: str, route: str, status: int, duration_s: float) -> None:
        if method not in METHODS:
            method = OTHER_METHOD  # a client may send any token as a method
        key = (method, route, status)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = self.requests.labels(method, route, str(status))
        counter.inc()
        _child(self._request_seconds, self.request_seconds, route).observe(duration_s)

    def ingest_outcome(
        self, source_id: str, outcome: str, code: str, status: int, source_type: str
    ) -> None:
        _child(self._ingest, self.ingest, (source_type, outcome, code)).inc()

    def message_accepted(self, app_id: str, origin: str) -> None:
        key = (origin, self._app(app_id)) if self.app_labels else (origin,)
        _child(self._messages, self.messages, key).inc()

    def call_finished(self, app_id: str, outcome: str, duration_s: float) -> None:
        key = (outcome, self._app(app_id)) if self.app_labels else (outcome,)
        _child(self._calls, self.calls, key).inc()
        _child(self._call_seconds, self.call_seconds, outcome).observe(duration_s)

    def transformation_finished(self, outcome: str, duration_s: float) -> None:
        _child(self._transformations, self.transformations, outcome).inc()
        self.transform_seconds.observe(duration_s)

    def alert_issues_open(self, count: int) -> None:
        # hookd_alert_issues_open is read from the database on scrape (StateCollector), so
        # every process answers the same, not only the evaluator's lease holder.
        return None

    def breaker_changed(self, app_id: str, endpoint_id: str, opened: bool) -> None:
        (self._opened if opened else self._closed).inc()

    def endpoint_disabled(self, app_id: str, endpoint_id: str, reason: str) -> None:
        _child(self._disabled, self.endpoints_disabled, reason).inc()

    def message_exhausted(self, app_id: str, endpoint_id: str) -> None:
        self.exhausted.inc()


def _child(children: dict[Any, ChildT], metric: Any, key: Any) -> ChildT:
    """The bound child of ``metric`` for ``key`` (a label value or a tuple of them)."""
    child = children.get(key)
    if child is None:
        child = children[key] = (
            metric.labels(*key) if isinstance(key, tuple) else metric.labels(key)
        )
    return child


# -- what the database holds -------------------------------------------------------------------


class StateCollector(Collector):
    """Gauges read from the database when scraped: the due deliveries and the age of the
    oldest, the deliveries in flight, the endpoints by state, the open alert issues."""

    def __init__(self) -> None:
        self._db: Database | None = None
        self._clock: Callable[[], datetime] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None
        self._read_at = -STATE_REFRESH_SECONDS
        self._backlog = backlog_store.Backlog(0, None, 0)
        self._now_ms = 0
        self._endpoints = dict.fromkeys(backlog_store.ENDPOINT_STATES, 0)
        self._alerts = 0

    def bind(self, db: Database, clock: Callable[[], datetime]) -> None:
        """Read ``db`` from now on, on the running event loop."""
        self._db, self._clock = db, clock
        self._loop = asyncio.get_running_loop()
        self._lock = asyncio.Lock()

    def unbind(self) -> None:
        self._db = self._loop = self._lock = None

    async def refresh(self) -> None:
        """Read the database, unless that was done less than a second ago (on the loop)."""
        db, clock, lock = self._db, self._clock, self._lock
        if db is None or clock is None or lock is None:
            return
        async with lock:
            if time.monotonic() - self._read_at < STATE_REFRESH_SECONDS:
                return
            now_ms = to_ms(clock())
            try:
                async with db.read() as conn:
                    backlog = await backlog_store.backlog(conn, now_ms)
                    endpoints = await backlog_store.endpoint_states(conn, now_ms)
                alerts = await alert_issues_open(db)
            except Exception:  # the database is down: the last values stand
                log.warning("metrics could not read the database", exc_info=True)
                return
            self._backlog, self._endpoints, self._alerts = backlog, endpoints, alerts
            self._now_ms = now_ms
            self._read_at = time.monotonic()

    def _refresh_from_thread(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            if asyncio.get_running_loop() is loop:
                return  # on the loop: the caller awaited refresh() already
        future = asyncio.run_coroutine_threadsafe(self.refresh(), loop)
        try:
            future.result(STATE_TIMEOUT_SECONDS)
        except Exception:  # timed out, or the loop stopped: the last values stand
            future.cancel()

    def collect(self) -> Iterable[Metric]:
        self._refresh_from_thread()
        backlog = self._backlog
        yield GaugeMetricFamily(
            "hookd_deliveries_due",
            "Pending deliveries whose time has come, waiting for a worker.",
            value=backlog.due,
        )
        oldest = backlog.oldest_due_ms
        age = 0.0 if oldest is None else max(0.0, (self._now_ms - oldest) / 1000)
        yield GaugeMetricFamily(
            "hookd_deliveries_oldest_due_age_seconds",
            "How long the longest-waiting due delivery has been due (0: none is).",
            value=age,
        )
        yield GaugeMetricFamily(
            "hookd_deliveries_in_flight",
            "Deliveries claimed by a worker and being sent.",
            value=backlog.in_flight,
        )
        endpoints = GaugeMetricFamily("hookd_endpoints", "Endpoints by state.", labels=("state",))
        for state, count in self._endpoints.items():
            endpoints.add_metric((state,), count)
        yield endpoints
        yield GaugeMetricFamily("hookd_alert_issues_open", "Alert issues open.", value=self._alerts)


# -- the delivery processes' metrics ----------------------------------------------------------


class ProcessesCollector(Collector):
    """This process's metrics plus those its delivery processes wrote to ``child_dir``, summed
    sample by sample (counters, and histograms' cumulative buckets, sums and counts)."""

    def __init__(self, own: CollectorRegistry, child_dir: str | None) -> None:
        self._own = own
        self._children = (
            MultiProcessCollector(None, child_dir)  # type: ignore[no-untyped-call]
            if child_dir
            else None
        )

    def collect(self) -> Iterable[Metric]:
        families = {family.name: family for family in self._own.collect()}
        if self._children is not None:
            for theirs in self._children.collect():  # type: ignore[no-untyped-call]
                mine = families.get(theirs.name)
                if mine is None:
                    families[theirs.name] = theirs
                    continue
                index = {_sample_key(s): i for i, s in enumerate(mine.samples)}
                for sample in theirs.samples:
                    at = index.get(_sample_key(sample))
                    if at is None:
                        mine.samples.append(sample)
                    else:
                        mine.samples[at] = mine.samples[at]._replace(
                            value=mine.samples[at].value + sample.value
                        )
        return families.values()


def _sample_key(sample: Any) -> tuple[str, tuple[tuple[str, str], ...]]:
    return sample.name, tuple(sorted(sample.labels.items()))


# -- the exporter: one process's answer --------------------------------------------------------


class Exporter:
    """What a scrape of this process answers: its metrics, its delivery processes', and the
    database's state."""

    def __init__(self, telemetry: MetricsTelemetry, child_dir: str | None) -> None:
        self.telemetry = telemetry
        self.child_dir = child_dir
        self.state = StateCollector()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(ProcessesCollector(telemetry.registry, child_dir))
        self.registry.register(self.state)

    async def exposition(self) -> bytes:
        """The text format, with the database's state read first if it is stale (on the
        event loop)."""
        await self.state.refresh()
        return generate_latest(self.registry)

    def remove_child_dir(self) -> None:
        if self.child_dir is not None:
            shutil.rmtree(self.child_dir, ignore_errors=True)
            if os.environ.get(CHILD_DIR_ENV) == self.child_dir:
                del os.environ[CHILD_DIR_ENV]


def metrics_telemetry(settings: Settings) -> MetricsTelemetry | None:
    """The metrics of a process with these settings, or None when nobody could read them.

    - a delivery process (a child of a serving one): on when its parent's are (the parent
      hands it :data:`CHILD_DIR_ENV`), counting into files there, serving nothing;
    - otherwise on with ``HOOKD_METRICS`` (the default), except a ``--role worker`` process
      without ``HOOKD_METRICS_ADDRESS`` (it has no API port to serve them on).
    """
    child_dir = os.environ.get(CHILD_DIR_ENV)
    if os.environ.get(PARENT_PIPE_ENV) and child_dir:
        os.environ[MULTIPROC_DIR_ENV] = child_dir
        values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]  # this process's values go to files
        return MetricsTelemetry(
            app_labels=settings.metrics_app_labels,
            app_label_limit=settings.metrics_app_label_limit,
        )
    if not settings.metrics or (settings.role == "worker" and not settings.metrics_address):
        return None
    own_dir = None
    if settings.role == "all" and settings.delivery_processes > 1:
        own_dir = tempfile.mkdtemp(prefix="hookd-metrics-")  # private (0700), empty
        os.environ[CHILD_DIR_ENV] = own_dir  # the children inherit the environment
    telemetry = MetricsTelemetry(
        app_labels=settings.metrics_app_labels,
        app_label_limit=settings.metrics_app_label_limit,
    )
    telemetry.exporter = Exporter(telemetry, own_dir)  # this process answers scrapes
    if own_dir is not None:
        atexit.register(telemetry.exporter.remove_child_dir)
    return telemetry


def exporter_of(telemetry: Telemetry) -> Exporter | None:
    """The exporter of the metrics in ``telemetry`` (alone or among parts), if any."""
    parts: Iterable[Any] = getattr(telemetry, "parts", (telemetry,))
    for part in parts:
        if isinstance(part, MetricsTelemetry) and part.exporter is not None:
            return part.exporter
    return None


@contextlib.asynccontextmanager
async def running(runtime: Runtime) -> AsyncIterator[Exporter | None]:
    """Serve this process's metrics while the block runs: read the database when scraped,
    and listen on ``HOOKD_METRICS_ADDRESS`` if set. Yields the exporter (None: no metrics)."""
    exporter = exporter_of(runtime.telemetry)
    if exporter is None:
        yield None
        return
    settings = runtime.settings
    exporter.state.bind(runtime.db, runtime.ctx.clock)
    with contextlib.ExitStack() as stack:
        stack.callback(exporter.remove_child_dir)
        stack.callback(exporter.state.unbind)
        if settings.metrics_address:
            host, port = metrics_listen_address(settings.metrics_address)
            bound = stack.enter_context(_listener(host, port, exporter.registry))
            log.info("metrics listening", address=f"{host}:{bound}")
        yield exporter


@contextlib.contextmanager
def _listener(host: str, port: int, registry: CollectorRegistry) -> Iterator[int]:
    """``prometheus_client``'s WSGI server in a thread of its own; yields the bound port."""
    server, thread = start_http_server(port, host, registry)
    try:
        yield int(server.server_port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


__all__ = [
    "CONTENT_TYPE",
    "Exporter",
    "MetricsTelemetry",
    "exporter_of",
    "metrics_telemetry",
    "running",
]
