"""The tracing port: the spans hookd opens around its work, when tracing is on.

Tracing is off unless the ``otel`` extra is installed and the ``OTEL_*`` variables ask for it
(``observability.build_tracing``, docs/observability.md). Off, every holder of the port
(``Context.tracing``, the worker, the group commits, the call sender) has ``None`` and pays one
``is None`` check on its hot path; nothing here imports OpenTelemetry. On, the instrument is
``observability.tracing.OtelTracing``, the only module that imports it.

A trace context crosses processes and time as plain W3C strings (:class:`TraceContext`): a
message keeps its create span's ``traceparent`` and ``tracestate`` in its row, so the attempt
that delivers it later, in whichever process claims it, continues the same trace; and the same
two headers go out to endpoints and come in from producers.

Attribute values are plain and bounded (ids, counts, statuses, names), as the telemetry seam's:
never a secret, a payload, a header value or a URL (webhook URLs carry credentials in their
path or query often enough).

This module sits beside ``telemetry``, outside the layers: every layer opens spans, and it
imports nothing of hookd.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Final, Literal, Protocol

AttributeValue = str | int | float | bool
Attributes = Mapping[str, AttributeValue]
SpanKind = Literal["internal", "server", "client", "producer", "consumer"]

TRACEPARENT: Final = "traceparent"
TRACESTATE: Final = "tracestate"
TRACE_HEADERS: Final = frozenset({TRACEPARENT, TRACESTATE})


@dataclass(frozen=True, slots=True)
class TraceContext:
    """A span's W3C trace context as it travels: the values of ``traceparent`` and
    ``tracestate`` (None: empty). Never checked here: a malformed one starts a new trace."""

    traceparent: str
    tracestate: str | None = None

    def headers(self) -> dict[str, str]:
        """The request headers that carry it."""
        if self.tracestate:
            return {TRACEPARENT: self.traceparent, TRACESTATE: self.tracestate}
        return {TRACEPARENT: self.traceparent}

    @classmethod
    def of(cls, traceparent: str | None, tracestate: str | None) -> TraceContext | None:
        """From stored or received values; None without a ``traceparent``."""
        return None if not traceparent else cls(traceparent, tracestate or None)


class Inherit:
    """The parent of a span that names none: the current span, if any (:data:`INHERIT`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "INHERIT"


INHERIT: Final = Inherit()


class Span(Protocol):
    """An open span (it ends when its ``with`` block does)."""

    def set(self, key: str, value: AttributeValue) -> None:
        """Set an attribute (plain, bounded values only: see the module)."""

    def rename(self, name: str) -> None:
        """Give the span its final name (a server span learns its route only once routed)."""

    def fail(self, error_type: str) -> None:
        """Mark the span failed; ``error_type`` (e.g. ``"timeout"``, ``"503"``) goes to the
        ``error.type`` attribute. A ``with`` block left by an exception fails its span with the
        exception's class name (its message, which may hold data, is not recorded)."""

    def context(self) -> TraceContext:
        """This span's trace context, to store with a message or send to an endpoint."""


class Tracing(Protocol):
    """Opens spans; the instrument is ``observability.tracing.OtelTracing``."""

    def span(
        self,
        name: str,
        kind: SpanKind = "internal",
        *,
        parent: TraceContext | Inherit | None = INHERIT,
        links: Sequence[TraceContext] = (),
        attributes: Attributes | None = None,
    ) -> AbstractContextManager[Span]:
        """A span that is the current one while the block runs. ``parent``: by default the
        current span; a stored or received context; or None for the root of a new trace.
        ``links``: other spans this one relates to (each request sharing a group commit)."""

    def current(self) -> Span | None:
        """The current span of this task, if any."""


def with_trace_headers(headers: Mapping[str, str], trace: TraceContext) -> dict[str, str]:
    """``headers`` with ``trace``'s ``traceparent`` and ``tracestate`` in place of any there
    (whatever their case: a forwarded request's own, an endpoint's or a transformation's)."""
    kept = {name: value for name, value in headers.items() if name.lower() not in TRACE_HEADERS}
    kept.update(trace.headers())
    return kept
