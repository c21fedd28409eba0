"""Traces end to end: real `hookd serve` processes export OTLP/HTTP to a small collector in the
test (protobuf decoded with opentelemetry-proto), and a producer's trace goes on through hookd
to the endpoints: a created message's, an ingested request's forward, and a message delivered
by another process than the one that created it. An endpoint that opted out gets no trace
context. No span carries a URL's path or a secret."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from svix.api import IngestEndpointIn, IngestSourceIn

from tests.conftest import svix_for
from tests.integration.engine_support import (
    ServerFactory,
    client,
    create_app,
    create_endpoint,
    engine_server,
)
from tests.integration.inbound.signers import stripe_headers
from tests.support import TOKEN, NewServer, Receiver, eventually, free_port

__all__ = ["engine_server"]

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PRODUCER_SPAN = "00f067aa0ba902b7"
PRODUCER = {
    "traceparent": f"00-{TRACE_ID}-{PRODUCER_SPAN}-01",
    "tracestate": "producer=opaque",
}
STRIPE_SECRET = "whsec_traces_stripe"


@dataclass(frozen=True)
class ExportedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    resource: dict[str, Any]


def _values(pairs: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        assert isinstance(pair, KeyValue)
        kind = pair.value.WhichOneof("value")
        values[pair.key] = getattr(pair.value, kind) if kind else None
    return values


class Collector:
    """An OTLP/HTTP trace receiver on a loopback port: ``POST /v1/traces``."""

    def __init__(self) -> None:
        self.port = free_port()
        self.spans: list[ExportedSpan] = []
        self._runner: web.AppRunner | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _export(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        export = ExportTraceServiceRequest.FromString(body)
        for resource_spans in export.resource_spans:
            resource = _values(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(
                        ExportedSpan(
                            span.name,
                            span.trace_id.hex(),
                            span.span_id.hex(),
                            span.parent_span_id.hex(),
                            _values(span.attributes),
                            resource,
                        )
                    )
        answer = ExportTraceServiceResponse().SerializeToString()
        return web.Response(body=answer, content_type="application/x-protobuf")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/traces", self._export)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def named(self, name: str) -> list[ExportedSpan]:
        return [span for span in self.spans if span.name == name]

    def by_id(self, span_id: str) -> ExportedSpan:
        [span] = [span for span in self.spans if span.span_id == span_id]
        return span

    async def wait_for(self, found: Callable[[], bool]) -> None:
        async def check() -> bool:
            return found()

        await eventually(check, timeout=20)


@pytest.fixture
async def collector() -> AsyncIterator[Collector]:
    running = Collector()
    await running.start()
    yield running
    await running.stop()


def traced(collector: Collector, **extra: str) -> dict[str, str]:
    """A server's environment: traces exported to ``collector`` within 50 ms of ending."""
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
        "OTEL_SERVICE_NAME": "hookd-traces-test",
        "OTEL_BSP_SCHEDULE_DELAY": "50",
        **extra,
    }


def parent_id(traceparent: str) -> str:
    version, trace_id, span_id, flags = traceparent.split("-")
    assert (version, len(trace_id), len(span_id), len(flags)) == ("00", 32, 16, 2)
    return span_id


def nothing_secret(collector: Collector, *secrets: str) -> None:
    """No attribute of any span holds a URL's path or one of ``secrets``."""
    for span in collector.spans:
        for value in span.attributes.values():
            assert not any(secret in str(value) for secret in secrets), (span.name, value)


async def test_a_producers_trace_goes_through_hookd_to_the_endpoint(
    engine_server: ServerFactory, receiver: Receiver, collector: Collector
) -> None:
    server = engine_server(traced(collector))
    async with client(server) as api:
        app_id = await create_app(api, "traced")
        await create_endpoint(api, app_id, url=receiver.url_for("/traced/path-secret"))
        opted_out = await create_endpoint(
            api, app_id, url=receiver.url_for("/untraced"), traceContext=False
        )
        assert opted_out["traceContext"] is False
        created = await api.post(
            f"/api/v1/app/{app_id}/msg",
            json={"eventType": "order.paid", "payload": {"n": 1}},
            headers={**PRODUCER, "Idempotency-Key": "traced-1"},  # the route is named all the same
        )
        assert created.status_code == 201, created.text
    msg_id = created.json()["id"]
    [to_traced] = await receiver.wait_for(1, path="/traced/path-secret")
    [to_untraced] = await receiver.wait_for(1, path="/untraced")

    # The endpoint that opted out gets nothing; the other continues the producer's trace.
    assert not {"traceparent", "tracestate"} & {name.lower() for name in to_untraced.headers}
    sent = {name.lower(): value for name, value in to_traced.headers.items()}
    assert sent["traceparent"].split("-")[1] == TRACE_ID
    assert sent["tracestate"] == "producer=opaque"

    # hookd's spans, from the producer's to the request the endpoint received.
    request_span = parent_id(sent["traceparent"])
    await collector.wait_for(lambda: any(s.span_id == request_span for s in collector.spans))
    request = collector.by_id(request_span)
    attempt = collector.by_id(request.parent_span_id)
    create = collector.by_id(attempt.parent_span_id)
    server_span = collector.by_id(create.parent_span_id)
    assert (request.name, attempt.name, create.name) == (
        "POST",
        "delivery attempt",
        "message create",
    )
    assert server_span.name == "POST /api/v1/app/{app_id}/msg"
    assert server_span.parent_span_id == PRODUCER_SPAN
    assert {s.trace_id for s in (request, attempt, create, server_span)} == {TRACE_ID}
    assert create.attributes["hookd.message_id"] == msg_id
    assert create.attributes["hookd.deliveries"] == 2
    assert server_span.attributes["http.route"] == "/api/v1/app/{app_id}/msg"
    assert server_span.attributes["http.response.status_code"] == 201
    assert request.attributes["http.response.status_code"] == 204
    assert request.attributes["server.port"] == receiver.port
    assert request.resource["service.name"] == "hookd-traces-test"
    # Both attempts continue the create span; the opted-out endpoint's is traced too.
    await collector.wait_for(
        lambda: len([s for s in collector.named("delivery attempt") if s.trace_id == TRACE_ID]) == 2
    )
    attempts = [s for s in collector.named("delivery attempt") if s.trace_id == TRACE_ID]
    assert {s.parent_span_id for s in attempts} == {create.span_id}
    nothing_secret(collector, "path-secret", "/untraced", TOKEN)


async def test_an_ingested_requests_forward_continues_the_providers_trace(
    new_server: NewServer, receiver: Receiver, collector: Collector
) -> None:
    server = new_server(traced(collector))
    server.start()
    svix = svix_for(server)
    source = await svix.ingest.source.create(
        IngestSourceIn.model_validate(
            {"name": "stripe", "type": "stripe", "config": {"secret": STRIPE_SECRET}}
        )
    )
    await svix.ingest.endpoint.create(source.id, IngestEndpointIn(url=receiver.url))
    assert source.ingest_url is not None
    body = b'{"id": "evt_traced", "type": "invoice.paid"}'
    headers = stripe_headers(body, STRIPE_SECRET) | PRODUCER
    answered = httpx.post(source.ingest_url, content=body, headers=headers)
    assert answered.status_code == 200, answered.text

    [forwarded] = await receiver.wait_for(1)
    sent = {name.lower(): value for name, value in forwarded.headers.items()}
    # The provider's trace, continued by hookd's span (not the provider's header passed on).
    assert sent["traceparent"].split("-")[1] == TRACE_ID
    request_span = parent_id(sent["traceparent"])
    assert request_span != PRODUCER_SPAN
    await collector.wait_for(lambda: any(s.span_id == request_span for s in collector.spans))
    attempt = collector.by_id(collector.by_id(request_span).parent_span_id)
    ingest = collector.by_id(attempt.parent_span_id)
    door = collector.by_id(ingest.parent_span_id)
    assert (attempt.name, ingest.name, door.name) == (
        "delivery attempt",
        "ingest",
        "POST /in/{source}",
    )
    assert door.parent_span_id == PRODUCER_SPAN
    assert ingest.attributes == {
        "hookd.source_id": source.id,
        "hookd.provider": "stripe",
        "hookd.ingest.outcome": "accepted",
        "hookd.ingest.code": "verified",
        "hookd.deliveries": 1,
    }
    [commit] = [s for s in collector.named("group commit ingest") if s.trace_id == TRACE_ID]
    assert commit.parent_span_id == ingest.span_id
    token = source.ingest_url.rpartition("/")[2]
    nothing_secret(collector, token, STRIPE_SECRET)


async def test_a_worker_process_continues_the_trace_of_a_message_another_created(
    new_server: NewServer, receiver: Receiver, collector: Collector
) -> None:
    api_server = new_server(traced(collector, HOOKD_ROLE="api"), name="api")
    api_server.start()
    worker = new_server(
        traced(
            collector,
            HOOKD_ROLE="worker",
            HOOKD_DATABASE_URL=f"sqlite:///{api_server.data_dir / 'hookd.db'}",
        ),
        name="worker",
    )
    worker.start(wait_healthy=False)
    async with client(api_server) as api:
        app_id = await create_app(api, "across")
        await create_endpoint(api, app_id, url=receiver.url)
        created = await api.post(
            f"/api/v1/app/{app_id}/msg",
            json={"eventType": "order.paid", "payload": {}},
            headers=PRODUCER,
        )
        assert created.status_code == 201, created.text

    [delivered] = await receiver.wait_for(1, timeout=30)
    request_span = parent_id(delivered.headers["traceparent"])
    await collector.wait_for(lambda: any(s.span_id == request_span for s in collector.spans))
    attempt = collector.by_id(collector.by_id(request_span).parent_span_id)
    await collector.wait_for(
        lambda: any(s.span_id == attempt.parent_span_id for s in collector.spans)
    )
    create = collector.by_id(attempt.parent_span_id)
    assert create.name == "message create" and create.trace_id == attempt.trace_id == TRACE_ID
    assert attempt.resource["process.pid"] != create.resource["process.pid"]
    assert worker.process is not None and attempt.resource["process.pid"] == worker.process.pid
