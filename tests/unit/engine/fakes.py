"""In-process stand-ins for the engine's unit tests: a sender that never touches the network
(as httpx's ``MockTransport``), a telemetry that records what it is told, a fresh SQLite file."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from hookd.config import Settings
from hookd.core.delivery import AttemptResult
from hookd.core.domain import DeliveryStatus
from hookd.services.applications import create_app
from hookd.services.context import Context
from hookd.services.endpoints.crud import create_endpoint
from hookd.store import deliveries
from hookd.store.db import Database
from hookd.store.migrate import upgrade

SETTINGS = Settings(allow_networks=("127.0.0.0/8",))
# Never contacted: the fake sender answers in its place.
URL = "http://127.0.0.1:9/hook"


@dataclass(frozen=True, slots=True)
class Sent:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes


Handler = Callable[[Sent], Awaitable[AttemptResult]]


async def ok(_: Sent) -> AttemptResult:
    return AttemptResult(200, b"ok", 1)


class FakeSender:
    """Answers every request with ``handler`` and keeps what was sent."""

    def __init__(self, handler: Handler = ok) -> None:
        self.handler = handler
        self.sent: list[Sent] = []

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float,
        *,
        tls: ssl.SSLContext | None = None,
    ) -> AttemptResult:
        request = Sent(method, url, dict(headers), body)
        self.sent.append(request)
        return await self.handler(request)


@dataclass
class RecordingTelemetry:
    """Keeps every report; ``wait_for`` waits until one satisfies a condition."""

    reports: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def _report(self, name: str, *args: Any) -> None:
        self.reports.append((name, args))
        self._changed.set()

    def of(self, name: str) -> list[tuple[Any, ...]]:
        return [args for reported, args in self.reports if reported == name]

    async def wait_for(self, done: Callable[[], bool]) -> None:
        async with asyncio.timeout(10):  # a guard against hanging, not a timing assertion
            while not done():
                self._changed.clear()
                await self._changed.wait()

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
        report = (app_id, endpoint_id, status, duration_ms, succeeded, failure, destination)
        self._report("attempt_finished", *report)

    def claim_round(self, claimed: int, budget: int, duration_s: float) -> None:
        self._report("claim_round", claimed, budget)

    def handed_off(self, count: int) -> None:
        self._report("handed_off", count)

    def outcomes_flushed(self, count: int, duration_s: float) -> None:
        self._report("outcomes_flushed", count)

    def group_commit(self, kind: str, size: int, committed: bool, duration_s: float) -> None:
        self._report("group_commit", kind, size, committed)

    def request_served(self, method: str, route: str, status: int, duration_s: float) -> None:
        self._report("request_served", method, route, status)

    def ingest_outcome(
        self, source_id: str, outcome: str, code: str, status: int, source_type: str
    ) -> None:
        self._report("ingest_outcome", source_id, outcome, code, status, source_type)

    def message_accepted(self, app_id: str, origin: str) -> None:
        self._report("message_accepted", app_id, origin)

    def call_finished(self, app_id: str, outcome: str, duration_s: float) -> None:
        self._report("call_finished", app_id, outcome)

    def transformation_finished(self, outcome: str, duration_s: float) -> None:
        self._report("transformation_finished", outcome)

    def alert_issues_open(self, count: int) -> None:
        self._report("alert_issues_open", count)

    def breaker_changed(self, app_id: str, endpoint_id: str, opened: bool) -> None:
        self._report("breaker_changed", app_id, endpoint_id, opened)

    def endpoint_disabled(self, app_id: str, endpoint_id: str, reason: str) -> None:
        self._report("endpoint_disabled", app_id, endpoint_id, reason)

    def message_exhausted(self, app_id: str, endpoint_id: str) -> None:
        self._report("message_exhausted", app_id, endpoint_id)


@asynccontextmanager
async def sqlite_database(path: Path) -> AsyncIterator[Database]:
    """A migrated database on a fresh SQLite file, closed afterwards."""
    database = Database(f"sqlite:///{path}")
    await upgrade(database)
    try:
        yield database
    finally:
        await database.close()


async def app_with_endpoints(ctx: Context, count: int) -> tuple[str, list[str]]:
    """An application and ``count`` endpoints of it (all at ``URL``)."""
    app, _ = await create_app(ctx, {"name": "engine"})
    made = [await create_endpoint(ctx, app.id, {"url": URL}) for _ in range(count)]
    return app.id, [endpoint.id for endpoint in made]


async def delivery_status(ctx: Context, msg_id: str, endpoint_id: str) -> DeliveryStatus:
    async with ctx.db.read() as conn:
        row = await deliveries.get_delivery(conn, msg_id, endpoint_id)
    assert row is not None
    return deliveries.delivery_from_row(row).status
