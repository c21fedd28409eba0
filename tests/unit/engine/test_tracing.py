"""Traces in process (the SDK's in-memory exporter, a fake sender, a temporary SQLite file): a
message created in a producer's trace is delivered in it, the endpoint receives the request
span's context unless it opted out, a group commit shared by several creates links to each,
a call's request is a child of its span, and the server span carries the route template."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from hookd.api.traced import Traced
from hookd.core.delivery import AttemptResult
from hookd.engine.auth import Authenticator
from hookd.engine.calls import CallSender
from hookd.observability.tracing import OtelTracing
from hookd.services.calls.call import call_endpoint
from hookd.services.context import Context
from hookd.services.endpoints.crud import create_endpoint
from hookd.services.messages.crud import create_message, get_message
from hookd.store.group_commit import GroupCommit
from hookd.tracing import TraceContext
from tests.unit.engine.fakes import (
    SETTINGS,
    URL,
    FakeSender,
    RecordingTelemetry,
    Sent,
    app_with_endpoints,
    sqlite_database,
)
from tests.unit.engine.test_worker import recorded, running

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PRODUCER_SPAN = "00f067aa0ba902b7"
PRODUCER = TraceContext(f"00-{TRACE_ID}-{PRODUCER_SPAN}-01", "vendor=opaque")


@pytest.fixture
def exported() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracing(exported: InMemorySpanExporter) -> Iterator[OtelTracing]:
    provider = TracerProvider(shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(exported))
    yield OtelTracing(provider)
    provider.shutdown()


@pytest.fixture
async def ctx(tmp_path: Path, tracing: OtelTracing) -> AsyncIterator[Context]:
    async with sqlite_database(tmp_path / "traces.db") as database:
        yield Context(
            db=database, settings=SETTINGS, telemetry=RecordingTelemetry(), tracing=tracing
        )


def named(exported: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [span for span in exported.get_finished_spans() if span.name == name]


def only(exported: InMemorySpanExporter, name: str) -> ReadableSpan:
    [span] = named(exported, name)
    return span


def parent_of(span: ReadableSpan) -> int | None:
    return None if span.parent is None else span.parent.span_id


def span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return int(span.context.span_id)


def trace_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return int(span.context.trace_id)


def traceparent(span: ReadableSpan) -> str:
    assert span.context is not None
    return f"00-{trace_id(span):032x}-{span_id(span):016x}-{span.context.trace_flags:02x}"


def attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


async def deliver_all(ctx: Context, sender: FakeSender, count: int) -> None:
    worker = await running(ctx, sender)
    try:
        await recorded(ctx, count)
    finally:
        await worker.stop(grace=1)


async def test_a_message_created_in_a_producers_trace_is_delivered_in_it(
    ctx: Context, tracing: OtelTracing, exported: InMemorySpanExporter
) -> None:
    app_id, [endpoint_id] = await app_with_endpoints(ctx, 1)
    with tracing.span("POST /api/v1/app/{app_id}/msg", "server", parent=PRODUCER):
        message, _ = await create_message(ctx, app_id, payload=b"{}", event_type="order.paid")
    sender = FakeSender()
    await deliver_all(ctx, sender, 1)

    server = only(exported, "POST /api/v1/app/{app_id}/msg")
    create = only(exported, "message create")
    commit = only(exported, "group commit messages")
    attempt = only(exported, "delivery attempt")
    request = only(exported, "POST")
    # One trace, from the producer's span to the request the endpoint received.
    assert {trace_id(s) for s in (server, create, commit, attempt, request)} == {int(TRACE_ID, 16)}
    assert parent_of(server) == int(PRODUCER_SPAN, 16)
    assert parent_of(create) == span_id(server)
    assert parent_of(commit) == span_id(create)  # the only create of its transaction
    assert parent_of(attempt) == span_id(create)  # read back from the message's row
    assert parent_of(request) == span_id(attempt)
    assert (message.traceparent, message.tracestate) == (traceparent(create), "vendor=opaque")
    [sent] = sender.sent
    assert sent.headers["traceparent"] == traceparent(request)
    assert sent.headers["tracestate"] == "vendor=opaque"

    assert (create.kind, attempt.kind, request.kind) == (
        SpanKind.PRODUCER,
        SpanKind.CONSUMER,
        SpanKind.CLIENT,
    )
    assert attributes(create) == {
        "hookd.message_id": message.id,
        "hookd.event_type": "order.paid",
        "hookd.app_id": app_id,
        "hookd.deliveries": 1,
    }
    assert attributes(commit) == {
        "hookd.group_commit.kind": "messages",
        "hookd.group_commit.size": 1,
    }
    assert attributes(attempt) == {
        "hookd.app_id": app_id,
        "hookd.endpoint_id": endpoint_id,
        "hookd.message_id": message.id,
        "hookd.delivery_id": attributes(attempt)["hookd.delivery_id"],
        "hookd.attempt.number": 1,
        "hookd.attempt.succeeded": True,
        "hookd.attempt.status_code": 200,
    }
    # The URL's path and query are not recorded (webhook URLs hold secrets often enough).
    assert attributes(request) == {
        "http.request.method": "POST",
        "url.scheme": "http",
        "server.address": "127.0.0.1",
        "server.port": 9,
        "http.response.status_code": 200,
    }
    assert attempt.status.status_code == request.status.status_code == StatusCode.UNSET


async def test_an_endpoint_that_opted_out_receives_no_trace_context(
    ctx: Context, tracing: OtelTracing, exported: InMemorySpanExporter
) -> None:
    app_id, _ = await app_with_endpoints(ctx, 0)
    await create_endpoint(ctx, app_id, {"url": URL, "trace_context": False})
    with tracing.span("producer", parent=PRODUCER):
        await create_message(ctx, app_id, payload=b"{}", event_type="order.paid")
    sender = FakeSender()
    await deliver_all(ctx, sender, 1)

    [sent] = sender.sent
    assert "traceparent" not in sent.headers and "tracestate" not in sent.headers
    # Traced all the same: only the endpoint is left out.
    request = only(exported, "POST")
    assert parent_of(request) == span_id(only(exported, "delivery attempt"))
    assert trace_id(request) == int(TRACE_ID, 16)


async def test_a_failed_attempt_fails_its_spans_with_the_status(
    ctx: Context, exported: InMemorySpanExporter
) -> None:
    app_id, _ = await app_with_endpoints(ctx, 1)
    await create_message(ctx, app_id, payload=b"{}", event_type="order.paid")

    async def busy(_: Sent) -> AttemptResult:
        return AttemptResult(503, b"busy", 2)

    await deliver_all(ctx, FakeSender(busy), 1)

    attempt, request = only(exported, "delivery attempt"), only(exported, "POST")
    for span in (attempt, request):
        assert span.status.status_code == StatusCode.ERROR
        assert span.status.description is None
        assert attributes(span)["error.type"] == "503"
    assert attributes(attempt)["hookd.attempt.succeeded"] is False
    assert attributes(request)["http.response.status_code"] == 503
    # Created outside any span: the create is the root of its own trace, the attempt in it.
    create = only(exported, "message create")
    assert create.parent is None
    assert parent_of(attempt) == span_id(create)


async def test_without_tracing_no_trace_context_is_stored_or_sent(tmp_path: Path) -> None:
    async with sqlite_database(tmp_path / "untraced.db") as database:
        untraced = Context(db=database, settings=SETTINGS, telemetry=RecordingTelemetry())
        app_id, _ = await app_with_endpoints(untraced, 1)
        message, _ = await create_message(untraced, app_id, payload=b"{}", event_type="a.b")
        sender = FakeSender()
        await deliver_all(untraced, sender, 1)

    assert (message.traceparent, message.tracestate) == (None, None)
    assert "traceparent" not in sender.sent[0].headers


async def test_a_message_stored_without_a_trace_context_is_delivered_in_a_trace_of_its_own(
    tmp_path: Path, tracing: OtelTracing, exported: InMemorySpanExporter
) -> None:
    async with sqlite_database(tmp_path / "untraced.db") as database:
        untraced = Context(db=database, settings=SETTINGS, telemetry=RecordingTelemetry())
        app_id, _ = await app_with_endpoints(untraced, 1)
        await create_message(untraced, app_id, payload=b"{}", event_type="a.b")
        sender = FakeSender()
        await deliver_all(replace(untraced, tracing=tracing), sender, 1)

    attempt, request = only(exported, "delivery attempt"), only(exported, "POST")
    assert attempt.parent is None and parent_of(request) == span_id(attempt)
    assert sender.sent[0].headers["traceparent"] == traceparent(request)


@dataclass
class FakeDatabase:
    """What a group commit needs of a database: its write turn."""

    async def run_write(self, write: Any, **_: Any) -> Any:
        return write(None)


async def test_a_group_commit_shared_by_several_requests_links_to_each(
    tracing: OtelTracing, exported: InMemorySpanExporter
) -> None:
    def run_batch(_: Any, jobs: Sequence[int]) -> list[int | Exception]:
        return [job * 2 for job in jobs]

    committer: GroupCommit[int, int] = GroupCommit(
        FakeDatabase(),  # type: ignore[arg-type]
        run_batch,
        kind="messages",
        tracing=tracing,
    )

    async def request(job: int) -> int:
        with tracing.span(f"request {job}"):
            return await committer.submit(job)

    # Each submits before the transaction starts (its first await): one group of three.
    assert await asyncio.gather(*(request(n) for n in range(3))) == [0, 2, 4]

    commit = only(exported, "group commit messages")
    requests = [only(exported, f"request {n}") for n in range(3)]
    assert commit.parent is None  # a trace of its own, linked to the trace of each request
    assert attributes(commit)["hookd.group_commit.size"] == 3
    assert [link.context.span_id for link in commit.links] == [span_id(r) for r in requests]
    assert len({trace_id(r) for r in requests} | {trace_id(commit)}) == 4


async def test_a_calls_request_is_a_child_of_its_span_and_its_message_keeps_it(
    ctx: Context, tracing: OtelTracing, exported: InMemorySpanExporter
) -> None:
    app_id, [endpoint_id] = await app_with_endpoints(ctx, 1)
    sender = FakeSender()
    transport = CallSender(Authenticator(sender), "webhook", tracing)
    with tracing.span("POST /api/v1/app/{app_id}/endpoint/{endpoint_id}/call", parent=PRODUCER):
        outcome = await call_endpoint(
            ctx, transport, app_id, endpoint_id, payload=b"{}", params={}, timeout_ms=None
        )

    call, request = only(exported, "endpoint call"), only(exported, "POST")
    assert trace_id(call) == int(TRACE_ID, 16)
    assert parent_of(request) == span_id(call)
    assert sender.sent[0].headers["traceparent"] == traceparent(request)
    message = await get_message(ctx, app_id, outcome.msg_id)
    assert message.traceparent == traceparent(call)  # a retry (retryAsync) continues it
    assert attributes(call) == {
        "hookd.app_id": app_id,
        "hookd.endpoint_id": endpoint_id,
        "hookd.message_id": outcome.msg_id,
        "hookd.call.status": 200,
    }


async def test_the_server_span_continues_the_callers_trace_under_the_route_template(
    tracing: OtelTracing, exported: InMemorySpanExporter
) -> None:
    app = FastAPI()

    @app.get("/api/v1/app/{app_id}")
    async def get_app(app_id: str) -> dict[str, str]:
        return {"id": app_id}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail")

    transport = httpx.ASGITransport(app=Traced(app, tracing), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hookd") as client:
        answered = await client.get("/api/v1/app/app_1", headers=PRODUCER.headers())
        assert answered.status_code == 200
        assert (await client.get("/boom")).status_code == 500
        assert (await client.request("BREW", "/nowhere")).status_code == 404

    served = only(exported, "GET /api/v1/app/{app_id}")
    assert served.kind == SpanKind.SERVER
    assert (trace_id(served), parent_of(served)) == (int(TRACE_ID, 16), int(PRODUCER_SPAN, 16))
    assert attributes(served) == {
        "http.request.method": "GET",
        "url.scheme": "http",
        "http.route": "/api/v1/app/{app_id}",
        "http.response.status_code": 200,
    }
    failed = only(exported, "GET /boom")
    assert failed.parent is None
    assert failed.status.status_code == StatusCode.ERROR and failed.status.description is None
    assert attributes(failed)["error.type"] in {"500", "RuntimeError"}
    unmatched = only(exported, "HTTP")
    assert attributes(unmatched)["http.request.method"] == "_OTHER"


async def test_a_batch_is_a_trace_of_its_own_linked_to_each_message(
    ctx: Context, tracing: OtelTracing, exported: InMemorySpanExporter
) -> None:
    app_id, _ = await app_with_endpoints(ctx, 0)
    await create_endpoint(ctx, app_id, {"url": URL, "batch_size": 2})
    for n in range(2):
        with tracing.span(f"producer {n}"):
            await create_message(ctx, app_id, payload=b"{}", event_type="order.paid")
    sender = FakeSender()
    await deliver_all(ctx, sender, 2)

    [sent] = sender.sent  # one request for both
    attempt, request = only(exported, "delivery attempt"), only(exported, "POST")
    creates = named(exported, "message create")
    assert attempt.parent is None and parent_of(request) == span_id(attempt)
    assert sorted(link.context.span_id for link in attempt.links) == sorted(map(span_id, creates))
    assert attributes(attempt)["hookd.batch.size"] == 2
    assert sent.headers["traceparent"] == traceparent(request)


async def test_each_job_of_a_failed_group_is_retried_in_a_span_of_its_own(
    tracing: OtelTracing, exported: InMemorySpanExporter
) -> None:
    def run_batch(_: Any, jobs: Sequence[int]) -> list[int | Exception]:
        if len(jobs) > 1:
            raise RuntimeError("one bad job fails the group")
        return [jobs[0]]

    committer: GroupCommit[int, int] = GroupCommit(
        FakeDatabase(),  # type: ignore[arg-type]
        run_batch,
        kind="messages",
        tracing=tracing,
    )

    async def request(job: int) -> int:
        with tracing.span(f"request {job}"):
            return await committer.submit(job)

    assert await asyncio.gather(*(request(n) for n in range(2))) == [0, 1]

    shared, *alone = named(exported, "group commit messages")
    assert shared.status.status_code == StatusCode.ERROR
    assert attributes(shared)["error.type"] == "RuntimeError"
    requests = [only(exported, f"request {n}") for n in range(2)]
    assert [parent_of(span) for span in alone] == [span_id(r) for r in requests]


NOT_SAMPLED = TraceContext(f"00-{TRACE_ID}-{PRODUCER_SPAN}-00", "vendor=opaque")


async def test_a_producers_trace_not_sampled_is_passed_on_and_nothing_is_recorded(
    ctx: Context, tracing: OtelTracing, exported: InMemorySpanExporter
) -> None:
    """Under a parent-based sampler the producer's decision holds all the way: no span is
    recorded, and the message and the endpoint get the producer's own trace context."""
    app_id, _ = await app_with_endpoints(ctx, 1)
    with tracing.span("POST /api/v1/app/{app_id}/msg", "server", parent=NOT_SAMPLED):
        message, _ = await create_message(ctx, app_id, payload=b"{}", event_type="order.paid")
    sender = FakeSender()
    await deliver_all(ctx, sender, 1)

    assert exported.get_finished_spans() == ()
    assert (message.traceparent, message.tracestate) == (
        NOT_SAMPLED.traceparent,
        NOT_SAMPLED.tracestate,
    )
    [sent] = sender.sent
    assert sent.headers["traceparent"] == NOT_SAMPLED.traceparent
    assert sent.headers["tracestate"] == "vendor=opaque"


def test_a_sampled_span_inside_one_not_recorded_is_recorded_with_its_children(
    tracing: OtelTracing, exported: InMemorySpanExporter
) -> None:
    with tracing.span("outer", parent=NOT_SAMPLED) as outer:
        assert tracing.current() is outer
        with tracing.span("inner") as inner:
            assert inner.context() == NOT_SAMPLED  # not recorded: passed on as it came
        with tracing.span("other trace", parent=PRODUCER), tracing.span("its child"):
            pass
        assert tracing.current() is outer
    assert tracing.current() is None
    [child, other] = exported.get_finished_spans()
    assert (other.name, child.name) == ("other trace", "its child")
    assert parent_of(child) == span_id(other)
    assert parent_of(other) == int(PRODUCER_SPAN, 16)


def test_a_span_not_recorded_still_lets_its_exception_through(tracing: OtelTracing) -> None:
    with pytest.raises(KeyError), tracing.span("outer", parent=NOT_SAMPLED):
        raise KeyError("x")
    assert tracing.current() is None


@pytest.mark.parametrize(
    "traceparent",
    [
        f"00-{'0' * 32}-{PRODUCER_SPAN}-00",  # a zero trace id: invalid
        f"00-{TRACE_ID}-{'0' * 16}-00",  # a zero span id: invalid
        f"00-{TRACE_ID.upper()}-{PRODUCER_SPAN}-00",  # upper case: invalid
        "garbage",
    ],
)
def test_a_malformed_parent_is_the_samplers_to_decide(
    tracing: OtelTracing, exported: InMemorySpanExporter, traceparent: str
) -> None:
    """The fast path takes only well-formed W3C parents; anything else goes to the SDK (which
    starts a new trace, recorded here under parent-based always-on)."""
    with tracing.span("root", parent=TraceContext(traceparent)):
        pass
    [root] = exported.get_finished_spans()
    assert root.parent is None
