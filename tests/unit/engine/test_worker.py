"""The delivery worker with a fake sender (no network) on a temporary SQLite file: it sends
what is due, signed, records the outcomes, takes hand-offs, and releases what it holds when it
stops. Its telemetry reports say when a round or a flush is done, so no test sleeps."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import structlog

import hookd.engine.worker as worker_module
from hookd.core.delivery import AttemptResult
from hookd.core.domain import DeliveryStatus, ListQuery
from hookd.engine.destinations import BrokerDestinations
from hookd.engine.worker import DeliveryWorker
from hookd.services.attempts import list_by_message
from hookd.services.context import Context
from hookd.services.messages.crud import create_message
from hookd.telemetry import REQUEST_ID
from tests.unit.engine.fakes import (
    SETTINGS,
    URL,
    FakeSender,
    RecordingTelemetry,
    Sent,
    app_with_endpoints,
    delivery_status,
    sqlite_database,
)


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[Context]:
    async with sqlite_database(tmp_path / "worker.db") as database:
        yield Context(db=database, settings=SETTINGS, telemetry=RecordingTelemetry())


def telemetry(ctx: Context) -> RecordingTelemetry:
    assert isinstance(ctx.telemetry, RecordingTelemetry)
    return ctx.telemetry


async def recorded(ctx: Context, count: int) -> None:
    """Wait until ``count`` finished attempts are in the database."""
    reports = telemetry(ctx)
    await reports.wait_for(lambda: sum(n for (n,) in reports.of("outcomes_flushed")) >= count)


async def attempts(ctx: Context, app_id: str, msg_id: str) -> list[tuple[DeliveryStatus, int]]:
    page = await list_by_message(ctx, app_id, msg_id, ListQuery(10), endpoint_id=None)
    return [(a.status, a.response_status_code) for a in page.items]


async def running(ctx: Context, sender: FakeSender) -> DeliveryWorker:
    worker = DeliveryWorker(ctx, sender, BrokerDestinations(ctx.settings.networks))
    await worker.start(reclaim_all=True)
    return worker


async def test_sends_a_due_delivery_signed_and_records_its_success(ctx: Context) -> None:
    app_id, [endpoint_id] = await app_with_endpoints(ctx, 1)
    message, _ = await create_message(ctx, app_id, payload=b'{"a": 1}', event_type="order.paid")
    sender = FakeSender()
    worker = await running(ctx, sender)
    try:
        await recorded(ctx, 1)
    finally:
        await worker.stop(grace=1)

    [sent] = sender.sent
    assert (sent.method, sent.url, sent.body) == ("POST", URL, b'{"a": 1}')
    assert sent.headers["webhook-id"] == message.id
    assert sent.headers["webhook-signature"].startswith("v1,")
    assert await attempts(ctx, app_id, message.id) == [(DeliveryStatus.SUCCESS, 200)]
    assert await delivery_status(ctx, message.id, endpoint_id) == DeliveryStatus.SUCCESS
    reports = telemetry(ctx)
    assert reports.of("attempt_finished") == [(app_id, endpoint_id, 200, 1, True, None, "http")]
    assert reports.of("message_accepted") == [(app_id, "api")]
    assert (1, SETTINGS.concurrency) in reports.of("claim_round")
    assert reports.of("group_commit") == [("messages", 1, True)]  # the create's transaction


async def test_a_failed_attempt_is_recorded_and_the_delivery_waits_for_its_retry(
    ctx: Context,
) -> None:
    app_id, [endpoint_id] = await app_with_endpoints(ctx, 1)
    message, _ = await create_message(ctx, app_id, payload=b"{}", event_type="order.paid")

    async def refuse(_: Sent) -> AttemptResult:
        return AttemptResult(503, b"busy", 2)

    worker = await running(ctx, FakeSender(refuse))
    try:
        await recorded(ctx, 1)
    finally:
        await worker.stop(grace=1)

    assert await attempts(ctx, app_id, message.id) == [(DeliveryStatus.FAIL, 503)]
    assert await delivery_status(ctx, message.id, endpoint_id) == DeliveryStatus.PENDING
    assert telemetry(ctx).of("attempt_finished") == [
        (app_id, endpoint_id, 503, 2, False, None, "http")
    ]


async def test_takes_deliveries_a_create_hands_over(ctx: Context) -> None:
    app_id, [endpoint_id] = await app_with_endpoints(ctx, 1)
    sender = FakeSender()
    worker = await running(ctx, sender)
    worker.take_handoffs()
    # What the runtime gives the services on SQLite with role all: the worker's ledger.
    creating = replace(ctx, handoff=worker.handoff, wake_worker=worker.wake)
    try:
        reports = telemetry(ctx)
        await reports.wait_for(lambda: bool(reports.of("claim_round")))  # the first, empty
        message, _ = await create_message(
            creating, app_id, payload=b'{"b": 2}', event_type="order.paid"
        )
        await recorded(ctx, 1)
    finally:
        await worker.stop(grace=1)

    assert reports.of("handed_off") == [(1,)]
    assert worker.counts["handed_off"] == 1
    assert [s.body for s in sender.sent] == [b'{"b": 2}']
    assert await delivery_status(ctx, message.id, endpoint_id) == DeliveryStatus.SUCCESS


async def test_stopping_releases_what_did_not_finish_within_the_grace(ctx: Context) -> None:
    app_id, [endpoint_id] = await app_with_endpoints(ctx, 1)
    message, _ = await create_message(ctx, app_id, payload=b"{}", event_type="order.paid")
    arrived = asyncio.Event()

    async def hang(_: Sent) -> AttemptResult:
        arrived.set()
        await asyncio.Event().wait()  # never answers
        raise AssertionError("unreachable")

    worker = await running(ctx, FakeSender(hang))
    async with asyncio.timeout(10):
        await arrived.wait()
    assert await delivery_status(ctx, message.id, endpoint_id) == DeliveryStatus.SENDING
    await worker.stop(grace=0)

    assert await delivery_status(ctx, message.id, endpoint_id) == DeliveryStatus.PENDING
    assert await attempts(ctx, app_id, message.id) == []
    assert worker.handoff.in_flight == 0


async def test_a_delivery_that_fails_for_good_is_logged_and_reported(ctx: Context) -> None:
    once = replace(
        ctx, settings=SETTINGS.model_copy(update={"retry_schedule": (), "breaker_failures": 1})
    )
    app_id, [endpoint_id] = await app_with_endpoints(once, 1)
    token = REQUEST_ID.set("req-create")  # as api.request_log sets it while serving
    try:
        message, _ = await create_message(once, app_id, payload=b"{}", event_type="order.paid")
    finally:
        REQUEST_ID.reset(token)

    async def refuse(_: Sent) -> AttemptResult:
        return AttemptResult(503, b"busy", 2)

    with structlog.testing.capture_logs() as logged:
        worker = await running(once, FakeSender(refuse))
        try:
            await recorded(once, 1)
        finally:
            await worker.stop(grace=1)

    reports = telemetry(once)
    assert reports.of("message_exhausted") == [(app_id, endpoint_id)]
    assert reports.of("breaker_changed") == [(app_id, endpoint_id, True)]
    ids = {"msg_id": message.id, "endpoint_id": endpoint_id, "app_id": app_id}
    [failed, exhausted, opened] = [line for line in logged if line.get("endpoint_id")]
    assert (
        failed.items()
        >= {
            **ids,
            "event": "attempt failed",
            "log_level": "warning",
            "attempt": 1,
            "outcome": "failed",
            "status": 503,
            "duration_ms": 2,
            "request_id": "req-create",
        }.items()
    )
    assert (
        exhausted.items()
        >= {
            **ids,
            "event": "message exhausted",
            "log_level": "warning",
            "attempts": 1,
            "request_id": "req-create",
        }.items()
    )
    assert (opened["event"], opened["log_level"], opened["app_id"]) == (
        "circuit opened",
        "warning",
        app_id,
    )


async def test_an_endpoint_a_receiver_asks_to_stop_is_disabled_and_logged(ctx: Context) -> None:
    app_id, [endpoint_id] = await app_with_endpoints(ctx, 1)
    await create_message(ctx, app_id, payload=b"{}", event_type="order.paid")

    async def gone(_: Sent) -> AttemptResult:
        return AttemptResult(410, b"", 1)

    with structlog.testing.capture_logs() as logged:
        worker = await running(ctx, FakeSender(gone))
        try:
            await recorded(ctx, 1)
        finally:
            await worker.stop(grace=1)

    assert telemetry(ctx).of("endpoint_disabled") == [(app_id, endpoint_id, "receiver")]
    [disabled] = [line for line in logged if line["event"] == "endpoint disabled"]
    assert (
        disabled.items()
        >= {
            "endpoint_id": endpoint_id,
            "app_id": app_id,
            "reason": "receiver",
            "log_level": "warning",
        }.items()
    )


async def test_a_handed_off_delivery_runs_outside_the_request_that_created_it(
    ctx: Context,
) -> None:
    app_id, _ = await app_with_endpoints(ctx, 1)
    seen: list[str | None] = []

    async def answer(_: Sent) -> AttemptResult:
        seen.append(REQUEST_ID.get())
        return AttemptResult(200, b"", 1)

    worker = await running(ctx, FakeSender(answer))
    worker.take_handoffs()
    creating = replace(ctx, handoff=worker.handoff, wake_worker=worker.wake)
    token = REQUEST_ID.set("req-create")
    try:
        await create_message(creating, app_id, payload=b"{}", event_type="order.paid")
        await recorded(ctx, 1)
    finally:
        REQUEST_ID.reset(token)
        await worker.stop(grace=1)

    assert telemetry(ctx).of("handed_off") == [(1,)]
    assert seen == [None]


async def test_a_database_outage_in_the_loop_is_a_warning_other_errors_an_error(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop survives both; a locked database is logged as the API logs it (a warning, no
    traceback), anything else with its traceback at error level."""
    monkeypatch.setattr(worker_module, "ERROR_BACKOFF_SECONDS", 0.0)
    failures = [sqlite3.OperationalError("database is locked"), ValueError("a bug")]
    raised = asyncio.Event()
    worker = DeliveryWorker(ctx, FakeSender(), BrokerDestinations(ctx.settings.networks))

    async def failing() -> bool:
        if failures:
            raise failures.pop(0)
        raised.set()
        return False

    monkeypatch.setattr(worker, "_claim_and_start", failing)
    with structlog.testing.capture_logs() as logged:
        await worker.start(reclaim_all=True)
        try:
            worker.wake()
            await asyncio.wait_for(raised.wait(), 10)
        finally:
            await worker.stop(grace=1)
    looped = [line for line in logged if "retr" in line["event"]]
    assert [(line["event"], line["log_level"]) for line in looped] == [
        ("database unavailable; delivery retries", "warning"),
        ("delivery loop error; retrying", "error"),
    ]
    assert looped[0]["error"] == "OperationalError" and "exc_info" not in looped[0]
    assert looped[1]["exc_info"] is True
