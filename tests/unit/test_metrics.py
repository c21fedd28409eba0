"""``observability.metrics``: each report moves its series, labels stay bounded, a delivery
process's files are summed into the serving process's answer, and the documentation, the
dashboard and the alerting rules name exactly the metrics hookd serves."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry, values
from prometheus_client.parser import text_string_to_metric_families

from hookd.config import Settings
from hookd.core.delivery import Failure
from hookd.observability import build_telemetry
from hookd.observability.metrics import (
    ATTEMPT_OUTCOMES,
    CHILD_DIR_ENV,
    Exporter,
    MetricsTelemetry,
    metrics_telemetry,
)
from hookd.telemetry import NO_TELEMETRY

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "observability.md"
DASHBOARD = ROOT / "deploy" / "grafana" / "hookd.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
METRIC_NAME = re.compile(r"\bhookd_[a-z0-9_]+")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def value(telemetry: MetricsTelemetry, name: str, **labels: str) -> float:
    found = telemetry.registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


def attempt(
    telemetry: MetricsTelemetry,
    *,
    status: int = 200,
    succeeded: bool = True,
    failure: str | None = None,
    destination: str = "http",
    app_id: str = "app_1",
    due_since: datetime | None = None,
) -> None:
    telemetry.attempt_finished(
        app_id, "ep_1", status, 120, succeeded, failure, destination, due_since
    )


def test_each_point_moves_its_series() -> None:
    telemetry = MetricsTelemetry()
    attempt(telemetry, due_since=datetime.now(UTC) - timedelta(seconds=2))
    telemetry.claim_round(3, 10, 0.002)
    telemetry.handed_off(2)
    telemetry.outcomes_flushed(5, 0.001)
    telemetry.group_commit("messages", 4, True, 0.003)
    telemetry.group_commit("ingest", 2, False, 0.01)
    telemetry.request_served("POST", "/api/v1/app/{app_id}/msg", 202, 0.004)
    telemetry.ingest_outcome("src_1", "rejected", "bad_signature", 401, "stripe")
    telemetry.message_accepted("app_1", "api")
    telemetry.call_finished("app_1", "timeout", 0.5)
    telemetry.transformation_finished("transformed", 0.002)
    telemetry.breaker_changed("app_1", "ep_1", True)
    telemetry.breaker_changed("app_1", "ep_1", False)
    telemetry.breaker_changed("app_1", "ep_2", True)
    telemetry.endpoint_disabled("app_1", "ep_1", "receiver")
    telemetry.message_exhausted("app_1", "ep_1")

    success = {"outcome": "success", "destination": "http"}
    assert value(telemetry, "hookd_delivery_attempts_total", **success) == 1
    seconds = "hookd_delivery_attempt_duration_seconds"
    assert value(telemetry, f"{seconds}_sum", destination="http") == pytest.approx(0.12)
    latency = "hookd_delivery_latency_seconds"
    assert value(telemetry, f"{latency}_count", destination="http") == 1
    assert value(telemetry, f"{latency}_sum", destination="http") >= 2
    assert value(telemetry, "hookd_claim_rounds_total") == 1
    assert value(telemetry, "hookd_claimed_deliveries_total") == 3
    assert value(telemetry, "hookd_claim_round_duration_seconds_count") == 1
    assert value(telemetry, "hookd_handed_off_deliveries_total") == 2
    assert value(telemetry, "hookd_outcome_flush_size_sum") == 5
    assert value(telemetry, "hookd_outcome_flush_duration_seconds_count") == 1
    assert value(telemetry, "hookd_group_commit_size_sum", kind="messages") == 4
    assert value(telemetry, "hookd_group_commit_duration_seconds_count", kind="ingest") == 1
    assert value(telemetry, "hookd_group_commit_failures_total", kind="ingest") == 1
    assert value(telemetry, "hookd_group_commit_failures_total", kind="messages") == 0
    route = {"method": "POST", "route": "/api/v1/app/{app_id}/msg", "code": "202"}
    assert value(telemetry, "hookd_http_requests_total", **route) == 1
    assert value(telemetry, "hookd_http_request_duration_seconds_count", route=route["route"]) == 1
    rejected = {"source_type": "stripe", "outcome": "rejected", "code": "bad_signature"}
    assert value(telemetry, "hookd_ingest_requests_total", **rejected) == 1
    assert value(telemetry, "hookd_messages_accepted_total", origin="api") == 1
    assert value(telemetry, "hookd_calls_total", outcome="timeout") == 1
    assert value(telemetry, "hookd_call_duration_seconds_count", outcome="timeout") == 1
    assert value(telemetry, "hookd_transformations_total", outcome="transformed") == 1
    assert value(telemetry, "hookd_transformation_duration_seconds_count") == 1
    assert value(telemetry, "hookd_breaker_transitions_total", state="open") == 2
    assert value(telemetry, "hookd_breaker_transitions_total", state="closed") == 1
    assert value(telemetry, "hookd_endpoints_disabled_total", reason="receiver") == 1
    assert value(telemetry, "hookd_endpoints_disabled_total", reason="failing") == 0
    assert value(telemetry, "hookd_messages_exhausted_total") == 1


@pytest.mark.parametrize(
    ("status", "succeeded", "failure", "outcome"),
    [
        (204, True, None, "success"),
        (404, False, None, "http_4xx"),
        (503, False, None, "http_5xx"),
        (302, False, None, "http_other"),
        (0, False, Failure.TIMEOUT, "timeout"),
        (0, False, Failure.CONNECTION, "connection"),
        (0, False, Failure.TLS, "tls"),
        (0, False, Failure.REFUSED, "refused"),
        (0, False, Failure.TRANSFORMATION, "transformation"),
        (0, False, None, "error"),  # no answer and no class: counted, as an error
    ],
)
def test_an_attempt_is_counted_under_its_outcome(
    status: int, succeeded: bool, failure: Failure | None, outcome: str
) -> None:
    telemetry = MetricsTelemetry()
    attempt(telemetry, status=status, succeeded=succeeded, failure=failure, destination="kafka")
    assert outcome in ATTEMPT_OUTCOMES
    assert value(telemetry, "hookd_delivery_attempts_total", outcome=outcome, destination="kafka")
    latency = value(telemetry, "hookd_delivery_latency_seconds_count", destination="kafka")
    assert latency == 0  # only a successful delivery with a due time is a latency


def test_every_outcome_and_destination_is_there_before_it_happens() -> None:
    """A series that is 0 is shown as 0, not missing: ``rate()`` and alerts see it start."""
    telemetry = MetricsTelemetry()
    samples = {
        (s.labels["outcome"], s.labels["destination"])
        for family in telemetry.registry.collect()
        if family.name == "hookd_delivery_attempts"
        for s in family.samples
    }
    assert ("refused", "sqs") in samples
    assert ("connection", "relay") in samples  # hookd listen's relays (docs/listen.md)
    assert len(samples) == len(ATTEMPT_OUTCOMES) * 7


def test_application_labels_are_opt_in_and_capped() -> None:
    assert "app" not in str(list(MetricsTelemetry().registry.collect()))
    telemetry = MetricsTelemetry(app_labels=True, app_label_limit=2)
    for app_id in ("app_a", "app_b", "app_c", "app_d", "app_a"):
        attempt(telemetry, app_id=app_id)
        telemetry.message_accepted(app_id, "api")
        telemetry.call_finished(app_id, "success", 0.1)
    success = {"outcome": "success", "destination": "http"}
    assert value(telemetry, "hookd_delivery_attempts_total", **success, app="app_a") == 2
    assert value(telemetry, "hookd_delivery_attempts_total", **success, app="app_b") == 1
    assert value(telemetry, "hookd_delivery_attempts_total", **success, app="other") == 2
    assert value(telemetry, "hookd_messages_accepted_total", origin="api", app="other") == 2
    assert value(telemetry, "hookd_calls_total", outcome="success", app="app_a") == 2
    apps = {
        s.labels["app"]
        for family in telemetry.registry.collect()
        for s in family.samples
        if "app" in s.labels
    }
    assert apps == {"app_a", "app_b", "other"}


def test_an_unknown_method_is_one_label_value() -> None:
    telemetry = MetricsTelemetry()
    for method in ("BREW", "PROPFIND", "X" * 40):
        telemetry.request_served(method, "", 405, 0.001)
    assert value(telemetry, "hookd_http_requests_total", method="other", route="", code="405") == 3


def test_off_is_the_no_op() -> None:
    assert build_telemetry(Settings(metrics=False)) is NO_TELEMETRY
    # A worker has no API port: without its own address nobody could read its metrics.
    assert build_telemetry(Settings(role="worker")) is NO_TELEMETRY
    on = metrics_telemetry(Settings(role="worker", metrics_address="127.0.0.1:0"))
    assert on is not None and on.exporter is not None


@pytest.mark.parametrize("address", ["9464", "localhost", "host:port", ":9464", "h:70000"])
def test_a_bad_metrics_address_is_refused(address: str) -> None:
    with pytest.raises(ValueError, match="host:port"):
        Settings(metrics_address=address)


@pytest.fixture
def child_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Metrics made while this is active write to files in the yielded directory, as a
    delivery process's do (prometheus_client's multiprocess values, pid 4242)."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setattr(values, "ValueClass", values.MultiProcessValue(lambda: 4242))  # type: ignore[no-untyped-call]
    return tmp_path


async def test_a_delivery_process_counts_are_summed_into_the_answer(
    child_values: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    child = MetricsTelemetry()  # its values go to files, like a delivery process's
    monkeypatch.undo()  # the serving process keeps its own in memory
    parent = MetricsTelemetry(CollectorRegistry())
    exporter = Exporter(parent, str(child_values))
    for telemetry, count in ((child, 3), (parent, 2)):
        for _ in range(count):
            attempt(telemetry)
            telemetry.claim_round(1, 4, 0.001)
    attempt(child, status=503, succeeded=False)

    text = (await exporter.exposition()).decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    success = (("destination", "http"), ("outcome", "success"))
    assert samples[("hookd_delivery_attempts_total", success)] == 5
    failed = (("destination", "http"), ("outcome", "http_5xx"))
    assert samples[("hookd_delivery_attempts_total", failed)] == 1
    assert samples[("hookd_claim_rounds_total", ())] == 5
    assert samples[("hookd_claim_round_duration_seconds_count", ())] == 5
    top = ("hookd_claim_round_duration_seconds_bucket", (("le", "+Inf"),))
    assert samples[top] == 5
    # One family per name, however many processes count it.
    names = [family.name for family in text_string_to_metric_families(text)]
    assert len(names) == len(set(names))


def test_the_serving_process_makes_a_private_directory_for_its_children(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(CHILD_DIR_ENV, raising=False)
    telemetry = metrics_telemetry(Settings(delivery_processes=2))
    assert telemetry is not None and telemetry.exporter is not None
    made = telemetry.exporter.child_dir
    assert made is not None and Path(made).is_dir()
    assert Path(made).stat().st_mode & 0o077 == 0  # nobody else's
    try:
        assert os.environ[CHILD_DIR_ENV] == made  # what the children inherit
    finally:
        telemetry.exporter.remove_child_dir()
    assert not Path(made).exists()


# -- the names: served, documented, queried ----------------------------------------------------


def served_names() -> set[str]:
    """Every metric name a server answers, as written in queries (counters with ``_total``)."""
    exporter = Exporter(MetricsTelemetry(), None)
    names = set()
    for family in exporter.registry.collect():
        names.add(f"{family.name}_total" if family.type == "counter" else family.name)
    return names


def documented_names() -> set[str]:
    text = DOCS.read_text()
    section = text.split("\n## Metrics\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(hookd_[a-z0-9_]+)`", section, flags=re.MULTILINE))


def queried_names(expression: str) -> set[str]:
    """The metric names a PromQL expression reads, histogram series by their metric's name."""
    names = set()
    for name in METRIC_NAME.findall(expression):
        for suffix in HISTOGRAM_SUFFIXES:
            if name.endswith(suffix) and name.removesuffix(suffix) in documented_names():
                name = name.removesuffix(suffix)
        names.add(name)
    return names


def test_every_served_metric_is_documented_and_every_documented_one_served() -> None:
    documented = documented_names()
    assert len(documented) >= 20
    assert served_names() == documented


def test_the_dashboard_queries_only_documented_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert expressions
    queried = set().union(*(queried_names(e) for e in expressions))
    assert queried <= documented_names(), queried - documented_names()
    titles = [panel["title"] for panel in dashboard["panels"]]
    assert len(titles) == len(set(titles))


def test_the_alerting_rules_load_and_query_only_documented_metrics() -> None:
    rules = yaml.safe_load(ALERTS.read_text())
    [group] = rules["groups"]
    assert group["rules"]
    for rule in group["rules"]:
        assert set(rule) >= {"alert", "expr", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        queried = queried_names(rule["expr"])
        assert queried <= documented_names(), (rule["alert"], queried - documented_names())
