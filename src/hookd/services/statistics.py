"""Statistics, read from the rolled-up counters (``store.rollups``), never counted from attempts.

- Svix's usage statistics: ``aggregate_app_stats`` (messages sent to endpoints per application
  over a period: first attempts, Svix's "message destinations") and ``aggregate_event_types``
  (the event types each application's endpoints subscribe to), both background tasks.
- Svix's ``attempt_stats`` of an endpoint: attempts that succeeded, failed, were cancelled,
  over whole hours.
- hookd's series: an endpoint's attempts (``attempt_series``) and a source's inbound requests
  (``request_series``) per minute, hour or day.
- The console's: the whole server at a glance (``overview``: deliveries and inbound requests
  per interval over the last hour, day or week, with the queue's and the endpoints' state and the
  open alert issues) and each endpoint's success rate per hour (``success_sparklines``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hookd.core.domain import BackgroundTask, Source
from hookd.core.rollups import (
    ATTEMPT_COUNTERS,
    HOUR_MS,
    INTERVAL_MS,
    MINUTE_MS,
    REQUEST_COUNTERS,
    Interval,
    bucket_starts,
)
from hookd.services import background_tasks
from hookd.services.applications import require_app
from hookd.services.context import Context
from hookd.services.endpoints.crud import require_endpoint
from hookd.services.errors import Invalid
from hookd.services.ingest.sources import require_source
from hookd.store import backlog as backlog_store
from hookd.store import rollups
from hookd.store import statistics as store
from hookd.store.alerts import records as alert_store
from hookd.store.codec import from_ms, to_ms

# The most intervals one series answers (a day of minutes).
MAX_POINTS = 1440
# The period a series covers when ``since`` is not given, per interval.
DEFAULT_SPAN: dict[str, timedelta] = {
    "minute": timedelta(hours=1),
    "hour": timedelta(days=1),
    "day": timedelta(days=30),
}
ATTEMPT_STATS_SPAN = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Series:
    """Counters per interval over [since, until): every interval, zeros included."""

    interval: str
    since: datetime
    until: datetime
    points: list[tuple[datetime, dict[str, int]]]


def _range(
    since: datetime | None, until: datetime | None, default_span: timedelta, now: datetime
) -> tuple[datetime, datetime]:
    end = until or now
    start = since or end - default_span
    if start >= end:
        raise Invalid("since must be before until", loc=("query", "since"), code="invalid_range")
    return start, end


async def aggregate_app_stats(
    ctx: Context, since: datetime, until: datetime, app_ids: list[str] | None
) -> tuple[BackgroundTask, list[str]]:
    """Start counting the messages sent to endpoints per application in [since, until): a
    background task whose data becomes ``{"appStats": [{appId, appUid,
    messageDestinations}]}``; and the ids or uids of ``app_ids`` that name no application.

    Without ``app_ids``, every application that sent something in the period is listed."""
    if since >= until:
        raise Invalid("since must be before until", loc=("body", "since"), code="invalid_range")
    named: dict[str, tuple[str, str | None]] | None = None
    unresolved: list[str] = []
    if app_ids is not None:
        async with ctx.db.read() as conn:
            named = await store.apps_named(conn, app_ids)
        unresolved = [name for name in dict.fromkeys(app_ids) if name not in named]
        if not named:
            raise Invalid(
                "none of appIds names an application",
                loc=("body", "appIds"),
                code="unknown_application",
            )
    wanted = None if named is None else dict(named.values())
    since_ms, until_ms = to_ms(since), to_ms(until)

    async def count() -> dict[str, Any]:
        async with ctx.db.read() as conn:
            sent = await rollups.destinations_by_app(conn, since_ms, until_ms, wanted)
            uids = wanted if wanted is not None else await store.app_uids(conn, sent)
        return {
            "appStats": [
                {"appId": app_id, "appUid": uid, "messageDestinations": sent.get(app_id, 0)}
                for app_id, uid in sorted(uids.items())
            ]
        }

    task = await background_tasks.run_in_background(ctx, background_tasks.APP_STATS, count)
    return task, unresolved


async def aggregate_event_types(ctx: Context) -> BackgroundTask:
    """Start listing, per application, the event types its enabled endpoints name and whether
    one of them takes every type: ``{"event_types": [{appId, explicitlySubscribedEventTypes,
    hasCatchAllEndpoint}]}`` (Svix's keys)."""

    async def aggregate() -> dict[str, Any]:
        async with ctx.db.read() as conn:
            found = await store.subscriptions(conn)
        return {
            "event_types": [
                {
                    "appId": app_id,
                    "explicitlySubscribedEventTypes": sorted(named),
                    "hasCatchAllEndpoint": catch_all,
                }
                for app_id, (named, catch_all) in sorted(found.items())
            ]
        }

    return await background_tasks.run_in_background(
        ctx, background_tasks.EVENT_TYPE_AGGREGATE, aggregate
    )


async def attempt_stats(
    ctx: Context,
    app_id: str,
    endpoint_id: str,
    *,
    since: datetime | None,
    until: datetime | None,
) -> dict[str, int]:
    """Svix's attempt statistics of an endpoint: ``success``, ``fail`` and ``canceled``
    attempts in [since, until), widened to whole hours (the last day by default)."""
    start, end = _range(since, until, ATTEMPT_STATS_SPAN, ctx.clock())
    since_ms = to_ms(start) - to_ms(start) % HOUR_MS
    until_ms = -(-to_ms(end) // HOUR_MS) * HOUR_MS
    async with ctx.db.read() as conn:
        app = await require_app(conn, app_id)
        endpoint = await require_endpoint(conn, app.id, endpoint_id)
        sums = await rollups.endpoint_sums(
            conn,
            since_ms,
            until_ms,
            endpoint_ids=[endpoint.id],
            counters=("success", "fail", "canceled"),
        )
    row = sums.get(endpoint.id, {})
    return {name: int(row.get(name, 0)) for name in ("success", "fail", "canceled")}


def _series(
    interval: Interval,
    start: datetime,
    end: datetime,
    counted: dict[int, dict[str, Any]],
    counters: tuple[str, ...],
) -> Series:
    interval_ms = INTERVAL_MS[interval]
    starts = bucket_starts(to_ms(start), to_ms(end), interval_ms)
    zero = dict.fromkeys(counters, 0)
    points = [
        (from_ms(at), {name: int(counted.get(at, zero)[name]) for name in counters})
        for at in starts
    ]
    return Series(interval, from_ms(starts[0]), end, points)


def _bounded(
    interval: Interval, since: datetime | None, until: datetime | None, now: datetime
) -> tuple[datetime, datetime, int, int]:
    start, end = _range(since, until, DEFAULT_SPAN[interval], now)
    interval_ms = INTERVAL_MS[interval]
    since_ms = to_ms(start) - to_ms(start) % interval_ms
    if (to_ms(end) - since_ms) / interval_ms > MAX_POINTS:
        raise Invalid(
            f"at most {MAX_POINTS} intervals per answer: choose a longer interval or a "
            "shorter period",
            loc=("query", "interval"),
            code="too_many_intervals",
        )
    # Counter rows are per minute: the minute holding ``until`` is counted whole.
    return start, end, since_ms, to_ms(end) - to_ms(end) % MINUTE_MS + MINUTE_MS


async def attempt_series(
    ctx: Context,
    app_id: str,
    endpoint_id: str,
    *,
    since: datetime | None,
    until: datetime | None,
    interval: Interval,
) -> Series:
    """An endpoint's attempt counters per interval over [since, until)."""
    start, end, since_ms, until_ms = _bounded(interval, since, until, ctx.clock())
    async with ctx.db.read() as conn:
        app = await require_app(conn, app_id)
        endpoint = await require_endpoint(conn, app.id, endpoint_id)
        counted = await rollups.endpoint_series(
            conn, endpoint.id, since_ms, until_ms, INTERVAL_MS[interval]
        )
    return _series(interval, start, end, counted, ATTEMPT_COUNTERS)


async def request_series(
    ctx: Context,
    source_id: str,
    *,
    since: datetime | None,
    until: datetime | None,
    interval: Interval,
) -> tuple[Source, Series]:
    """A source's inbound requests per interval and outcome over [since, until)."""
    start, end, since_ms, until_ms = _bounded(interval, since, until, ctx.clock())
    async with ctx.db.read() as conn:
        source = await require_source(conn, source_id)
        counted = await rollups.source_series(
            conn, source.id, since_ms, until_ms, INTERVAL_MS[interval]
        )
    return source, _series(interval, start, end, counted, REQUEST_COUNTERS)


# The overview's periods: (length, interval of its series).
OVERVIEW_SPANS: dict[str, tuple[timedelta, Interval]] = {
    "1h": (timedelta(hours=1), "minute"),
    "24h": (timedelta(days=1), "hour"),
    "7d": (timedelta(days=7), "hour"),
}
SPARKLINE_SPAN = timedelta(days=1)  # an endpoint's sparkline: its success rate per hour


@dataclass(frozen=True, slots=True)
class Overview:
    """The whole server over a period (``OVERVIEW_SPANS``), from the counters and the indexes
    the metrics read: never a scan of attempts or requests."""

    span: str
    deliveries: Series  # every endpoint's attempt counters per interval
    requests: Series  # every source's inbound requests per interval and outcome
    attempts: dict[str, int]  # ATTEMPT_COUNTERS over the period
    ingest: dict[str, int]  # REQUEST_COUNTERS over the period
    endpoints: dict[str, int]  # endpoints per state (store.backlog.ENDPOINT_STATES)
    due: int  # deliveries due now (the retry backlog)
    oldest_due: datetime | None  # since when the longest-waiting of them is due
    in_flight: int
    open_issues: int  # alert issues open or acknowledged

    @property
    def per_second(self) -> float:
        """Deliveries (attempts that succeeded or failed) per second over the period."""
        seconds = (self.deliveries.until - self.deliveries.since).total_seconds()
        done = self.attempts["success"] + self.attempts["fail"]
        return done / seconds if seconds > 0 else 0.0

    @property
    def success_rate(self) -> float | None:
        """Percent of the period's finished attempts that succeeded; None without any."""
        done = self.attempts["success"] + self.attempts["fail"]
        return None if done == 0 else 100 * self.attempts["success"] / done


def _totals(series: Series, counters: tuple[str, ...]) -> dict[str, int]:
    return {name: sum(point[name] for _, point in series.points) for name in counters}


async def overview(ctx: Context, span: str) -> Overview:
    """The server over the last ``span`` (a key of ``OVERVIEW_SPANS``)."""
    if span not in OVERVIEW_SPANS:
        raise Invalid(f"span must be one of {', '.join(OVERVIEW_SPANS)}", loc=("query", "span"))
    length, interval = OVERVIEW_SPANS[span]
    now = ctx.clock()
    start, end, since_ms, until_ms = _bounded(interval, now - length, now, now)
    interval_ms = INTERVAL_MS[interval]
    now_ms = to_ms(now)
    async with ctx.db.read() as conn:
        attempts = await rollups.all_endpoints_series(conn, since_ms, until_ms, interval_ms)
        requests = await rollups.all_sources_series(conn, since_ms, until_ms, interval_ms)
        backlog = await backlog_store.backlog(conn, now_ms)
        states = await backlog_store.endpoint_states(conn, now_ms)
        open_issues = await alert_store.count_unresolved(conn)
    deliveries = _series(interval, start, end, attempts, ATTEMPT_COUNTERS)
    inbound = _series(interval, start, end, requests, REQUEST_COUNTERS)
    return Overview(
        span=span,
        deliveries=deliveries,
        requests=inbound,
        attempts=_totals(deliveries, ATTEMPT_COUNTERS),
        ingest=_totals(inbound, REQUEST_COUNTERS),
        endpoints=states,
        due=backlog.due,
        oldest_due=None if backlog.oldest_due_ms is None else from_ms(backlog.oldest_due_ms),
        in_flight=backlog.in_flight,
        open_issues=open_issues,
    )


async def success_sparklines(
    ctx: Context, endpoint_ids: list[str]
) -> dict[str, list[float | None]]:
    """Each endpoint's success rate (percent) per hour over the last day, oldest first; None
    for an hour without a finished attempt. One query for all of them."""
    now = ctx.clock()
    until_ms = to_ms(now) - to_ms(now) % MINUTE_MS + MINUTE_MS
    starts = bucket_starts(to_ms(now - SPARKLINE_SPAN), until_ms, HOUR_MS)
    async with ctx.db.read() as conn:
        found = await rollups.endpoints_outcomes(conn, endpoint_ids, starts[0], until_ms, HOUR_MS)
    lines: dict[str, list[float | None]] = {}
    for endpoint_id in endpoint_ids:
        hours = found.get(endpoint_id, {})
        line: list[float | None] = []
        for at in starts:
            success, fail = hours.get(at, (0, 0))
            line.append(None if success + fail == 0 else 100 * success / (success + fail))
        lines[endpoint_id] = line
    return lines
