"""How big each scenario is in the full run and with ``--quick``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sizes:
    raw_deliveries: int
    hookd_messages: int
    endpoints: int
    api_concurrency: int
    celery_deliveries: int
    fixed_rate: float
    fixed_rate_seconds: float
    fixed_rate_endpoints: int
    timeout_messages: int
    request_timeout: float
    backlog_messages: int
    backlog_window: float
    ingest_requests: int
    ingest_concurrency: int
    one_to_one_messages: int
    create_requests: int
    create_open_loop_seconds: float
    metrics_seconds: float  # the metrics scenario's mixed load
    metrics_rate: float  # its messages per second (each to every endpoint of its application)
    metrics_burst: int  # and the creates it sends at once first
    console_messages: int


FULL = Sizes(
    raw_deliveries=60_000,
    hookd_messages=3_000,
    endpoints=10,
    api_concurrency=32,
    celery_deliveries=6_000,
    fixed_rate=500.0,
    fixed_rate_seconds=20.0,
    fixed_rate_endpoints=1,
    timeout_messages=3_000,
    request_timeout=2.0,
    backlog_messages=1_000_000,
    backlog_window=60.0,
    ingest_requests=50_000,
    ingest_concurrency=32,
    one_to_one_messages=20_000,
    create_requests=30_000,
    create_open_loop_seconds=10.0,
    metrics_seconds=40.0,
    metrics_rate=25.0,
    metrics_burst=300,
    console_messages=1_000_000,
)

QUICK = Sizes(
    raw_deliveries=10_000,
    hookd_messages=500,
    endpoints=10,
    api_concurrency=32,
    celery_deliveries=1_500,
    fixed_rate=500.0,
    fixed_rate_seconds=5.0,
    fixed_rate_endpoints=1,
    timeout_messages=500,
    request_timeout=2.0,
    backlog_messages=100_000,
    backlog_window=25.0,
    ingest_requests=10_000,
    ingest_concurrency=32,
    one_to_one_messages=4_000,
    create_requests=6_000,
    create_open_loop_seconds=4.0,
    metrics_seconds=12.0,
    metrics_rate=10.0,
    metrics_burst=100,
    console_messages=100_000,
)
