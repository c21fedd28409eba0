"""Which tracing ``observability.build_tracing`` chooses from the ``OTEL_*`` variables: none
(the free path, OpenTelemetry's SDK never imported) unless an endpoint or an exporter is named,
the exporter the protocol names, and a warning instead of a failure without the ``otel`` extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import structlog
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased

from hookd.config import Settings
from hookd.observability import build_tracing, tracing_wanted
from hookd.observability.tracing import OtelTracing, exporters, resource, sampler

SRC = Path(__file__).resolve().parents[2] / "src"
ENDPOINT = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, False),
        (ENDPOINT, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", **ENDPOINT}, False),
        ({"OTEL_SDK_DISABLED": "true", **ENDPOINT}, False),
        ({"OTEL_SDK_DISABLED": "false", **ENDPOINT}, True),
        ({"OTEL_SERVICE_NAME": "hookd-eu"}, False),  # naming the service asks for nothing
    ],
)
def test_traces_are_on_only_when_the_variables_ask(environ: dict[str, str], wanted: bool) -> None:
    assert tracing_wanted(environ) is wanted


def test_off_is_none() -> None:
    assert build_tracing(Settings(), {}) is None


def test_an_endpoint_turns_on_otlp_over_http_by_default() -> None:
    tracing = build_tracing(Settings(), ENDPOINT)
    assert isinstance(tracing, OtelTracing)
    tracing.shutdown()
    assert [type(e) for e in exporters(ENDPOINT)] == [HttpExporter]


@pytest.mark.parametrize(
    ("environ", "chosen"),
    [
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, [GrpcExporter]),
        ({"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}, [GrpcExporter]),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, [HttpExporter]),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, [HttpExporter]),  # warned, unsupported
        ({"OTEL_TRACES_EXPORTER": "console"}, [ConsoleSpanExporter]),
        ({"OTEL_TRACES_EXPORTER": "otlp,console"}, [HttpExporter, ConsoleSpanExporter]),
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, []),  # warned, unknown
    ],
)
def test_the_exporters_the_variables_name(environ: dict[str, str], chosen: list[type]) -> None:
    assert [type(e) for e in exporters(environ)] == chosen


def test_the_service_is_hookd_unless_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    assert resource({}).attributes["service.name"] == "hookd"
    monkeypatch.setenv("OTEL_SERVICE_NAME", "hookd-eu")
    named = resource({"OTEL_SERVICE_NAME": "hookd-eu"})
    assert named.attributes["service.name"] == "hookd-eu"
    assert "service.version" in named.attributes and "process.pid" in named.attributes


def test_without_the_extra_it_warns_and_stays_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hookd.observability.tracing", None)  # import fails
    with structlog.testing.capture_logs() as logs:
        assert build_tracing(Settings(), ENDPOINT) is None
    [warning] = logs
    assert warning["log_level"] == "warning" and "hookd[otel]" in warning["event"]


def test_off_never_imports_the_sdk() -> None:
    program = (
        "import sys\n"
        "import hookd.cli, hookd.api.app, hookd.engine.runtime\n"
        "from hookd.config import Settings\n"
        "from hookd.observability import build_tracing\n"
        "assert build_tracing(Settings(), {}) is None\n"
        "heavy = ('opentelemetry.sdk', 'opentelemetry.exporter', 'hookd.observability.tracing')\n"
        "loaded = [m for m in sys.modules if m.startswith(heavy)]\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("environ", "ratio"),
    [
        ({}, 0.01),  # hookd's default: one new trace in a hundred
        ({"OTEL_TRACES_SAMPLER_ARG": "0.25"}, 0.25),
        ({"OTEL_TRACES_SAMPLER_ARG": "lots"}, 0.01),  # warned
        ({"OTEL_TRACES_SAMPLER_ARG": "2"}, 0.01),  # warned
    ],
)
def test_the_default_sampler_follows_parents_and_samples_a_ratio_of_new_traces(
    environ: dict[str, str], ratio: float
) -> None:
    chosen = sampler(environ)
    assert isinstance(chosen, ParentBased)
    description = chosen.get_description()  # type: ignore[no-untyped-call]
    assert description.startswith(f"ParentBased{{root:TraceIdRatioBased{{{ratio}}},")
    assert "remoteParentNotSampled:AlwaysOffSampler" in description


def test_a_named_sampler_is_the_sdks_to_build() -> None:
    assert sampler({"OTEL_TRACES_SAMPLER": "always_on"}) is None
