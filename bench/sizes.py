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
    console_messages=100_000,
)
