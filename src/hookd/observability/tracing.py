"""OpenTelemetry traces: the instrument behind hookd's tracing port (``hookd.tracing``).

The only module of hookd that imports OpenTelemetry, and only ``observability.build_tracing``
imports it, when tracing is asked for (docs/observability.md, "Traces"): without the ``otel``
extra hookd never loads it.

What the standard variables configure is left to the SDK: the sampler (``OTEL_TRACES_SAMPLER``,
``..._ARG``), the resource (``OTEL_SERVICE_NAME``, else
``hookd``; ``OTEL_RESOURCE_ATTRIBUTES``), the batch processor (``OTEL_BSP_*``) and each
exporter's endpoint, headers, timeout and compression (``OTEL_EXPORTER_OTLP_*``). hookd picks the
exporters: ``OTEL_TRACES_EXPORTER`` (``otlp`` by default, ``console``) and, for OTLP, the
protocol (``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`` or ``OTEL_EXPORTER_OTLP_PROTOCOL``:
``http/protobuf`` by default, or ``grpc``).

The one default hookd changes is the sampler's: unset, it is ``parentbased_traceidratio`` at
:data:`DEFAULT_RATIO` (a caller's sampled ``traceparent`` is always followed; one new trace in a
hundred is recorded), not the SDK's ``parentbased_always_on``, which records every delivery and
costs more than a delivery does (bench, "telemetry"). ``OTEL_TRACES_SAMPLER_ARG`` alone sets the
ratio.

Spans not recorded cost next to nothing: under a parent-based sampler, a span whose parent was
not sampled is not recorded either, so :meth:`OtelTracing.span` answers it with an
:class:`Unrecorded` span (no OpenTelemetry object, the parent's trace context passed on
unchanged) without asking the SDK; only a trace's root (a request from a caller without a
``traceparent``) goes through the sampler.

Trace context travels as W3C ``traceparent`` and ``tracestate`` only (no baggage): hookd
propagates it with the SDK's W3C propagator whatever ``OTEL_PROPAGATORS`` says. The provider is
hookd's own, not OpenTelemetry's global one: FastAPI's native telemetry turns itself on when a
global provider is set and would add server spans of its own beside ``api.traced``'s (which
also cover ``/in/``, answered in front of FastAPI). It is shut down, its last spans exported,
when the process exits.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar, Token
from types import TracebackType

import structlog
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, TraceIdRatioBased
from opentelemetry.trace import Link, SpanContext, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from hookd import __version__
from hookd.tracing import INHERIT, Attributes, AttributeValue, Inherit, SpanKind, TraceContext

log = structlog.get_logger("hookd")

DEFAULT_SERVICE_NAME = "hookd"
HTTP_PROTOBUF = "http/protobuf"
GRPC = "grpc"
KINDS: Mapping[SpanKind, trace.SpanKind] = {
    "internal": trace.SpanKind.INTERNAL,
    "server": trace.SpanKind.SERVER,
    "client": trace.SpanKind.CLIENT,
    "producer": trace.SpanKind.PRODUCER,
    "consumer": trace.SpanKind.CONSUMER,
}
_PROPAGATOR = TraceContextTextMapPropagator()
# hookd's default sampling (the module's docstring says why).
DEFAULT_RATIO = 0.01
SAMPLER = "OTEL_TRACES_SAMPLER"
SAMPLER_ARG = "OTEL_TRACES_SAMPLER_ARG"
# A version-00 traceparent whose sampled flag is clear (W3C Trace Context; ids not all zero,
# checked apart): what the fast path may pass on unchanged.
_UNSAMPLED_TRACEPARENT = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f][02468ace]")
_ZERO_TRACE_ID = "0" * 32
_ZERO_SPAN_ID = "0" * 16


class OtelSpan:
    """``hookd.tracing.Span`` on an OpenTelemetry span."""

    __slots__ = ("_span",)

    def __init__(self, span: trace.Span) -> None:
        self._span = span

    def set(self, key: str, value: AttributeValue) -> None:
        self._span.set_attribute(key, value)

    def rename(self, name: str) -> None:
        self._span.update_name(name)

    def fail(self, error_type: str) -> None:
        self._span.set_attribute("error.type", error_type)
        self._span.set_status(Status(StatusCode.ERROR))

    def context(self) -> TraceContext:
        return trace_context(self._span.get_span_context())


class Unrecorded:
    """A span that is not recorded because its parent was not (``hookd.tracing.Span``, and
    the context manager of its block): nothing of OpenTelemetry behind it, its parent's trace
    context passed on as it came. While its block runs it is the current span of the task, so
    the spans opened inside it are not recorded either."""

    __slots__ = ("_parent", "_token", "_trace")

    def __init__(self, trace: TraceContext | None, parent: SpanContext | None = None) -> None:
        self._trace = trace
        self._parent = parent  # formatted only when asked for (most never are)
        self._token: Token[Unrecorded | None] | None = None

    def set(self, key: str, value: AttributeValue) -> None:
        return None

    def rename(self, name: str) -> None:
        return None

    def fail(self, error_type: str) -> None:
        return None

    def context(self) -> TraceContext:
        if self._trace is None:
            assert self._parent is not None
            self._trace = trace_context(self._parent)
        return self._trace

    def child(self) -> Unrecorded:
        return Unrecorded(self._trace, self._parent)

    def __enter__(self) -> Unrecorded:
        self._token = _UNRECORDED.set(self)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _UNRECORDED.reset(self._token)
            self._token = None


# The task's current span when it is an Unrecorded one (None inside a recorded span).
_UNRECORDED: ContextVar[Unrecorded | None] = ContextVar("hookd_unrecorded_span", default=None)


def unsampled(trace: TraceContext) -> bool:
    """Whether ``trace`` is a well-formed parent that was not sampled."""
    traceparent = trace.traceparent
    return (
        _UNSAMPLED_TRACEPARENT.fullmatch(traceparent) is not None
        and traceparent[3:35] != _ZERO_TRACE_ID
        and traceparent[36:52] != _ZERO_SPAN_ID
    )


def trace_context(span: SpanContext) -> TraceContext:
    """A span context as W3C header values."""
    traceparent = f"00-{span.trace_id:032x}-{span.span_id:016x}-{span.trace_flags:02x}"
    return TraceContext(traceparent, span.trace_state.to_header() or None)


def _context_of(trace_context: TraceContext | None) -> Context:
    """An OpenTelemetry context whose span is the given remote one (none: a new trace; a
    malformed traceparent is none too)."""
    if trace_context is None:
        return Context()
    return _PROPAGATOR.extract(trace_context.headers(), context=Context())


def _span_context(trace_context: TraceContext) -> SpanContext:
    return trace.get_current_span(_context_of(trace_context)).get_span_context()


class OtelTracing:
    """``hookd.tracing.Tracing``: spans of a tracer of ``provider``."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self._tracer = provider.get_tracer("hookd", __version__)
        # Under a parent-based sampler (the default, and every OTEL_TRACES_SAMPLER named
        # parentbased_*), a child of a span not sampled is not sampled: the fast path.
        self._follows_parents = isinstance(provider.sampler, ParentBased)

    def span(
        self,
        name: str,
        kind: SpanKind = "internal",
        *,
        parent: TraceContext | Inherit | None = INHERIT,
        links: Sequence[TraceContext] = (),
        attributes: Attributes | None = None,
    ) -> AbstractContextManager[OtelSpan | Unrecorded]:
        if self._follows_parents:
            if isinstance(parent, Inherit):
                current = _UNRECORDED.get()
                if current is not None:
                    return current.child()
                span_context = trace.get_current_span().get_span_context()
                if span_context.is_valid and not span_context.trace_flags.sampled:
                    return Unrecorded(None, span_context)
            elif parent is not None and unsampled(parent):
                return Unrecorded(parent)
        return self._recorded(name, kind, parent, links, attributes)

    @contextmanager
    def _recorded(
        self,
        name: str,
        kind: SpanKind,
        parent: TraceContext | Inherit | None,
        links: Sequence[TraceContext],
        attributes: Attributes | None,
    ) -> Iterator[OtelSpan]:
        """A span the sampler decides on (recorded or not: OpenTelemetry's span either way)."""
        context = None if isinstance(parent, Inherit) else _context_of(parent)
        linked = [Link(c) for c in map(_span_context, links) if c.is_valid]
        span = self._tracer.start_span(
            name,
            context=context,
            kind=KINDS[kind],
            attributes=attributes,
            links=linked,
            # An exception's message may hold data (a statement's parameters, a URL): only
            # its class is recorded, below.
            record_exception=False,
            set_status_on_exception=False,
        )
        opened = OtelSpan(span)
        outer = _UNRECORDED.set(None)  # inside this span, OpenTelemetry's current one counts
        try:
            with trace.use_span(
                span, end_on_exit=True, record_exception=False, set_status_on_exception=False
            ):
                try:
                    yield opened
                except BaseException as exc:
                    opened.fail(type(exc).__name__)
                    raise
        finally:
            _UNRECORDED.reset(outer)

    def current(self) -> OtelSpan | Unrecorded | None:
        unrecorded = _UNRECORDED.get()
        if unrecorded is not None:
            return unrecorded
        span = trace.get_current_span()
        return OtelSpan(span) if span.get_span_context().is_valid else None

    def shutdown(self) -> None:
        """Export what is left and stop (also done when the process exits)."""
        self.provider.shutdown()


def resource(environ: Mapping[str, str]) -> Resource:
    """The SDK's resource (``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``), named
    ``hookd`` unless those name the service, with hookd's version and the process id (the
    delivery processes are processes of their own)."""
    own: dict[str, AttributeValue] = {SERVICE_VERSION: __version__, "process.pid": os.getpid()}
    named = environ.get("OTEL_SERVICE_NAME") or "service.name=" in environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    if not named:
        own[SERVICE_NAME] = DEFAULT_SERVICE_NAME
    return Resource.create(own)  # the variables' attributes, then these (which they lack)


def exporters(environ: Mapping[str, str]) -> list[SpanExporter]:
    """The exporters ``OTEL_TRACES_EXPORTER`` names (``otlp`` when unset)."""
    chosen: list[SpanExporter] = []
    names = [n.strip().lower() for n in environ.get("OTEL_TRACES_EXPORTER", "otlp").split(",")]
    for name in dict.fromkeys(n for n in names if n):
        if name == "otlp":
            chosen.append(otlp_exporter(environ))
        elif name == "console":
            chosen.append(ConsoleSpanExporter())
        elif name != "none":
            log.warning("unknown trace exporter ignored", exporter=name, known="otlp, console")
    return chosen


def otlp_exporter(environ: Mapping[str, str]) -> SpanExporter:
    """OTLP over HTTP (protobuf) or gRPC; the exporter reads its own ``OTEL_EXPORTER_OTLP_*``."""
    protocol = (
        environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or HTTP_PROTOBUF
    ).strip()
    if protocol == GRPC:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcExporter,
        )

        return GrpcExporter()
    if protocol != HTTP_PROTOBUF:
        log.warning(
            "unsupported OTLP protocol; using http/protobuf", protocol=protocol, known="grpc"
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpExporter,
    )

    return HttpExporter()


def sampler(environ: Mapping[str, str]) -> Sampler | None:
    """hookd's default sampler when ``OTEL_TRACES_SAMPLER`` names none (``..._ARG`` alone sets
    its ratio); None: the SDK reads the variables itself."""
    if environ.get(SAMPLER, "").strip():
        return None
    given = environ.get(SAMPLER_ARG, "").strip()
    try:
        ratio = float(given) if given else DEFAULT_RATIO
    except ValueError:
        log.warning(
            "OTEL_TRACES_SAMPLER_ARG is not a number; using the default", default=DEFAULT_RATIO
        )
        ratio = DEFAULT_RATIO
    if not 0.0 <= ratio <= 1.0:
        log.warning(
            "OTEL_TRACES_SAMPLER_ARG is not in [0, 1]; using the default", default=DEFAULT_RATIO
        )
        ratio = DEFAULT_RATIO
    return ParentBased(TraceIdRatioBased(ratio))


def from_environment(environ: Mapping[str, str]) -> OtelTracing:
    """The tracing the ``OTEL_*`` variables configure, exporting in batches."""
    provider = TracerProvider(resource=resource(environ), sampler=sampler(environ))
    for exporter in exporters(environ):
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return OtelTracing(provider)
