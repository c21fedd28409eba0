"""Group commit: concurrent writes of one kind coalesced into one transaction.

Callers ``submit`` a job and wait. While a transaction runs, new jobs queue; the next transaction
takes all of them. ``run_batch`` handles a list of jobs on one connection and returns one outcome
per job: a result, or the exception meant for that job alone (it must have written nothing for a
job it refuses, e.g. by validating before writing). Every caller is answered only after the
transaction holding its rows has committed, so durability is the same as one transaction each.

If the whole transaction fails (a constraint another process won a race on, say), it is rolled
back and each job of the group is retried in a transaction of its own, so one bad job cannot fail
the others. Not when the database is unavailable (``store.outages``: SQLite's lock held past the
busy timeout, PostgreSQL gone): every job of the group gets that error at once (a 503), rather
than each wait out the timeout again.

``PerDatabase`` keeps one committer per database for a kind of job (message creates, inbound
requests), with the process's application and endpoint cache of that database.

``after_transaction`` (optional) is told, on the event loop, how each transaction of a group
ended (committed or not) with its jobs: message creates start the deliveries they handed to the
local worker only after their commit. Each transaction is reported to the telemetry
(``Telemetry.group_commit``) under the committer's ``kind``. With tracing on, each is a span
too: the child of its request's span when it holds one request, else a span of its own linked
to the span of every request it holds (their spans are current when they ``submit``).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy import Connection

from hookd.store.config_cache import ConfigCache, for_database
from hookd.store.db import Database
from hookd.store.outages import is_outage
from hookd.telemetry import NO_TELEMETRY, Telemetry
from hookd.tracing import Attributes, TraceContext, Tracing

Job = TypeVar("Job")
Result = TypeVar("Result")

MAX_GROUP = 256

BatchRunner = Callable[[Connection, Sequence[Job]], list[Result | Exception]]
CachedBatchRunner = Callable[
    [Connection, Sequence[Job], ConfigCache | None], list[Result | Exception]
]
AfterTransaction = Callable[[Sequence[Job], bool], None]
# A submitted job, the future its caller waits on, and its caller's span (tracing on).
Queued = tuple[Job, asyncio.Future[Result], TraceContext | None]


class GroupCommit(Generic[Job, Result]):
    """Coalesces concurrent ``submit`` calls into shared write transactions."""

    def __init__(
        self,
        db: Database,
        run_batch: BatchRunner[Job, Result],
        after_transaction: AfterTransaction[Job] | None = None,
        *,
        kind: str = "writes",
        telemetry: Telemetry = NO_TELEMETRY,
        tracing: Tracing | None = None,
    ) -> None:
        self._db = db
        self._run_batch = run_batch
        self._after_transaction = after_transaction
        self._kind = kind
        self._telemetry = telemetry
        self._tracing = tracing
        self._queue: list[Queued[Job, Result]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def submit(self, job: Job) -> Result:
        """Write ``job`` with whatever else is waiting; return its result after the commit."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        span = None if self._tracing is None else self._tracing.current()
        self._queue.append((job, future, None if span is None else span.context()))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain(), name="hookd-group-commit")
        return await future

    async def _drain(self) -> None:
        group: list[Queued[Job, Result]] = []
        try:
            while self._queue:
                group, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
                traces = None if self._tracing is None else [trace for _, _, trace in group]
                outcomes = await self._commit_group([job for job, _, _ in group], traces)
                for (_, future, _), outcome in zip(group, outcomes, strict=True):
                    _settle(future, outcome)
        except BaseException:
            # Cancelled (shutdown): answer everyone still waiting rather than leave them hanging.
            interrupted = RuntimeError("the write was interrupted")
            for _, future, _ in group + self._queue:
                _settle(future, interrupted)
            self._queue = []
            raise

    async def _commit_group(
        self, jobs: list[Job], traces: list[TraceContext | None] | None
    ) -> list[Result | Exception]:
        """One transaction for the group; if it fails, one transaction per job. ``traces``:
        the spans of the jobs' callers (tracing on)."""
        try:
            return await self._transaction(jobs, traces)
        except Exception as exc:
            if len(jobs) == 1 or is_outage(exc):
                return [exc] * len(jobs)
        singles = [None] * len(jobs) if traces is None else [[trace] for trace in traces]
        return [
            await self._commit_alone(job, single) for job, single in zip(jobs, singles, strict=True)
        ]

    async def _commit_alone(
        self, job: Job, traces: list[TraceContext | None] | None
    ) -> Result | Exception:
        try:
            [outcome] = await self._transaction([job], traces)
        except Exception as exc:  # this job's own failure, reported to its caller only
            return exc
        return outcome

    async def _transaction(
        self, jobs: list[Job], traces: list[TraceContext | None] | None
    ) -> list[Result | Exception]:
        if self._tracing is None or traces is None:
            return await self._write(jobs)
        known = [trace for trace in traces if trace is not None]
        # One request: a step of it. Several: a span of its own, linked to each of theirs.
        parent, links = (known[0] if known else None, ()) if len(jobs) == 1 else (None, known)
        attributes: Attributes = {
            "hookd.group_commit.kind": self._kind,
            "hookd.group_commit.size": len(jobs),
        }
        name = f"group commit {self._kind}"
        with self._tracing.span(name, parent=parent, links=links, attributes=attributes):
            return await self._write(jobs)

    async def _write(self, jobs: list[Job]) -> list[Result | Exception]:
        committed = False
        started = time.monotonic()
        try:
            outcomes = await self._db.run_write(lambda conn: self._run_batch(conn, jobs))
            committed = True
            return outcomes
        finally:
            if self._after_transaction is not None:
                self._after_transaction(jobs, committed)
            elapsed = time.monotonic() - started
            self._telemetry.group_commit(self._kind, len(jobs), committed, elapsed)


class PerDatabase(Generic[Job, Result]):
    """One :class:`GroupCommit` per database in this process, made on first use, whose batch
    function also gets the process's :class:`ConfigCache` of that database (or ``None``)."""

    def __init__(
        self,
        run_batch: CachedBatchRunner[Job, Result],
        after_transaction: AfterTransaction[Job] | None = None,
        *,
        kind: str = "writes",
    ) -> None:
        self._run_batch = run_batch
        self._after_transaction = after_transaction
        self._kind = kind
        self._committers: weakref.WeakKeyDictionary[Database, GroupCommit[Job, Result]] = (
            weakref.WeakKeyDictionary()
        )

    async def submit(
        self,
        db: Database,
        job: Job,
        *,
        sole_process: bool,
        telemetry: Telemetry = NO_TELEMETRY,
        tracing: Tracing | None = None,
    ) -> Result:
        """``GroupCommit.submit`` on ``db``'s committer; ``sole_process``: see ``for_database``;
        ``telemetry`` and ``tracing``: where the committer, made by the first submit, reports
        its transactions (the process's, from its runtime)."""
        committer = self._committers.get(db)
        if committer is None:
            cache = for_database(db, sole_process=sole_process)
            run_batch = self._run_batch
            committer = GroupCommit(
                db,
                lambda conn, jobs: run_batch(conn, jobs, cache and cache.sync(conn)),
                self._after_transaction,
                kind=self._kind,
                telemetry=telemetry,
                tracing=tracing,
            )
            self._committers[db] = committer
        return await committer.submit(job)


def _settle(future: asyncio.Future[Result], outcome: Result | BaseException) -> None:
    if future.done():
        return  # the caller went away (cancelled); its rows are committed all the same
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
