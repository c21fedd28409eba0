"""Settings from ``HOOKD_*`` environment variables (and CLI flags, which override them)."""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from hookd.core.breaker import BreakerPolicy
from hookd.core.retry import DEFAULT_DELAYS, RetrySchedule
from hookd.core.ssrf import Network, parse_networks
from hookd.core.urls import url_address

DEFAULT_DATA_DIR = Path(".hookd")
# The admin token `hookd serve` generates, in the data directory (the commands read it too).
ADMIN_TOKEN_FILE = "admin_token"  # noqa: S105 - a file name, not a secret
# ``HOOKD_DELIVERY_PROCESSES=auto`` starts one per core, at most this many: the processes take
# turns on one database writer (SQLite's lock), and on 2 cores 3 processes already delivered less
# than 2.
AUTO_PROCESSES_MAX = 4


def metrics_listen_address(value: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` for an IPv6 address) as a host and a port; ValueError."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError("must be host:port, e.g. 127.0.0.1:9464")
    return host.removeprefix("[").removesuffix("]"), int(port)


# A CSP frame-ancestors source: a keyword, a scheme, or an origin (its host may start with
# "*."); nothing that could end the directive or the header.
FRAME_ANCESTOR = re.compile(
    r"'self'|https?:|https?://(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:(\d{1,5}|\*))?"
)


def frame_ancestors(value: str) -> str:
    """``value`` as a CSP ``frame-ancestors`` source list (sources one space apart);
    ValueError for anything else. ``'none'`` stands alone."""
    sources = value.split()
    if sources == ["'none'"]:
        return "'none'"
    if not sources:
        raise ValueError("name at least one source, or 'none'")
    for source in sources:
        if not FRAME_ANCESTOR.fullmatch(source):
            raise ValueError(
                f"{source!r} is not a frame-ancestors source ('self', https:, "
                "https://app.example.com, https://*.example.com:8443)"
            )
    return " ".join(sources)


class Settings(BaseSettings):
    """Everything ``hookd serve`` can be told."""

    model_config = SettingsConfigDict(env_prefix="HOOKD_", extra="ignore")

    database_url: str = Field(
        default="",
        description="sqlite:///path/hookd.db or postgresql://user@host/db "
        "(default: ./.hookd/hookd.db)",
    )
    role: Literal["all", "api", "worker"] = Field(
        default="all", description="all: API and worker in one process; api or worker alone"
    )
    host: str = Field(default="127.0.0.1", description="the address the API listens on")
    port: int = Field(default=8071, description="the port the API listens on")
    admin_token: str | None = Field(default=None, description="generated on first start if unset")
    main_key: SecretStr | None = Field(
        default=None,
        description="the key that seals secrets in the database: base64url keys of 32 bytes, "
        "comma-separated, the first seals and all open (generated on first start if unset)",
    )
    retry_schedule: Annotated[tuple[float, ...], NoDecode] = Field(
        default=DEFAULT_DELAYS, description="seconds between a message's attempts, comma-separated"
    )
    request_timeout: float = Field(default=15.0, gt=0, le=300, description="seconds per attempt")
    allow_networks: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="comma-separated CIDRs exempt from the SSRF guard"
    )
    max_payload_bytes: int = Field(
        default=1024 * 1024, gt=0, description="the largest accepted payload, in bytes"
    )
    signature_headers: Literal["webhook", "svix"] = Field(
        default="webhook",
        description="the signature headers' names: webhook-id/-timestamp/-signature or svix-*",
    )
    max_retry_after: float = Field(
        default=3600.0, ge=0, description="seconds an endpoint's Retry-After may postpone a retry"
    )
    concurrency: int = Field(default=256, ge=1, description="deliveries in flight at once")
    # As many as the sender's connections per host (engine.http.sender.CONNECTIONS_PER_HOST).
    # With 16
    # (and 32), one endpoint fed 500 messages/s tipped into claim rounds after a burst filled its
    # slots and never caught up (see docs/delivery.md).
    endpoint_concurrency: int = Field(
        default=64, ge=1, le=10_000, description="deliveries in flight at once per endpoint"
    )
    breaker_failures: int = Field(
        default=5, ge=1, description="consecutive failures that open an endpoint's circuit"
    )
    breaker_cooldown: float = Field(
        default=30.0, gt=0, description="seconds an open circuit waits before one probe"
    )
    disable_after: float = Field(
        default=5 * 24 * 3600.0,
        gt=0,
        description="seconds of continuous failure after which an endpoint is disabled",
    )
    delivery_processes: int = Field(
        default=1,
        ge=1,
        le=64,
        description="processes that deliver (role all): the serving one and this many minus one "
        "`hookd serve --role worker` children on the same database; `auto`: one per core, at "
        "most 4",
    )
    poll_interval: float = Field(default=1.0, gt=0, description="idle seconds between due checks")
    lease_seconds: float = Field(default=60.0, gt=0, description="claim lease before reclaim")
    shutdown_grace: float = Field(default=8.0, ge=0, description="seconds to finish in-flight work")
    sqlite_busy_timeout: float = Field(
        default=5.0,
        gt=0,
        le=600,
        description="seconds a write waits for SQLite's lock held by another process before "
        "the request is answered 503 database_unavailable",
    )
    retention_days: int | None = Field(
        default=None,
        ge=1,
        description="delete messages (with their attempts) and inbound requests older than this "
        "many days, in hookd prune and the worker's periodic prune (default: keep them)",
    )
    prune_interval: float = Field(
        default=3600.0,
        ge=0,
        description="seconds between a worker's prunes (expired payloads, and records past "
        "HOOKD_RETENTION_DAYS); 0 turns the periodic prune off",
    )
    stats_retention_days: int = Field(
        default=90,
        ge=0,
        description="delete the rolled-up counters behind statistics and alert rules, and "
        "resolved alert issues, older than this many days, in hookd prune and the worker's "
        "periodic prune (0: keep them)",
    )
    alert_interval: float = Field(
        default=10.0,
        ge=0,
        le=3600,
        description="seconds between evaluations of the alert rules; one process at a time "
        "evaluates (a lease in the database), any process may; 0: this process never does",
    )
    log_level: str = Field(default="info", description="debug, info, warning or error")
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto",
        description="json: one JSON object per line; console: for people, coloured on a "
        "terminal; auto: console on a terminal, json otherwise",
    )
    log_sql: bool = Field(
        default=False,
        description="log every SQL statement the database drivers run (their parameters hold "
        "sealed secrets only, but payloads and tokens in the clear): for debugging only",
    )
    public_url: str = Field(
        default="",
        description="the base URL providers and consumers call, for ingest URLs, signed-URL "
        "checks, thin webhooks' payload links and app portal links "
        "(default: http://{host}:{port}; portal links: the request's URL)",
    )
    transform_timeout_ms: int = Field(
        default=1000, ge=10, le=30_000, description="run-time limit of a JavaScript transformation"
    )
    transform_max_memory_mb: int = Field(
        default=64, ge=8, le=1024, description="V8 heap limit of a JavaScript transformation"
    )
    transform_workers: int = Field(
        default=2, ge=1, le=64, description="sandbox processes that run transformations"
    )
    dedup_window_seconds: int = Field(
        default=24 * 3600,
        ge=0,
        le=30 * 24 * 3600,
        description="inbound requests with a seen provider id within this window are duplicates",
    )
    rejected_body_bytes: int = Field(
        default=4096,
        ge=0,
        description="bytes of a rejected (or handshake) inbound request's body kept for inspection",
    )
    rejected_retention_days: int = Field(
        default=7,
        ge=0,
        description="delete rejected inbound requests older than this many days, in hookd prune "
        "and the worker's periodic prune (0: keep them)",
    )
    rejected_coalesce_seconds: float = Field(
        default=60.0,
        ge=0,
        description="rejections from one address to one source with the same code within this "
        "many seconds of the first are counted on its record, not stored again (0: store each)",
    )
    rejected_rate_limit: float = Field(
        default=10.0,
        ge=0,
        description="rejected requests a second (burst: one second's worth) per source and "
        "address; past it /in/ answers 429 with Retry-After and stores nothing (0: no limit)",
    )

    bin_max_body_bytes: int = Field(
        default=1024 * 1024,
        gt=0,
        description="the largest body a request bin captures; a larger request is answered 413 "
        "and not stored",
    )
    bin_max_requests: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description="requests a request bin keeps; beyond it its oldest are forgotten",
    )
    relay_answer_timeout: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="seconds a relay URL waits for its listener's local answer (hookd listen) "
        "before answering 504; the request stays stored and is delivered all the same",
    )
    allow_own_url: bool = Field(
        default=True,
        description="endpoints may point at this server's own public URL (the host and port of "
        "HOOKD_PUBLIC_URL) even when the SSRF guard would refuse its address, e.g. a bin's "
        "capture URL on 127.0.0.1; false: the guard treats it like any other",
    )

    thin_link_ttl_seconds: int = Field(
        default=24 * 3600,
        ge=60,
        le=30 * 24 * 3600,
        description="how long the payload link in a thin webhook stays valid",
    )
    validate_payloads: bool = Field(
        default=False,
        description="check message payloads against their event type's JSON Schema "
        "(a message create's ?validate= overrides it)",
    )

    queue_url: str = Field(
        default="",
        description="redis://[user:password@]host[:port][/db] (or rediss://): Redis as the "
        "queue index workers wait on; the database stays the record (default: the database "
        "alone, polled)",
    )
    queue_prefix: str = Field(
        default="hookd",
        pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
        description="first part of every Redis key hookd uses, so installations can share one "
        "Redis",
    )

    portal_frame_ancestors: str = Field(
        default="'none'",
        description="who may show the consumer portal (/portal) in an iframe: CSP "
        "frame-ancestors sources, space-separated ('self', https://app.example.com, "
        "https://*.example.com); default 'none' (the console is never framed)",
    )
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="CIDRs of reverse proxies whose X-Forwarded-For names the client (default: "
        "none; the connection's own address is the client)",
    )
    header_timeout: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="seconds a connection may take to send a request head; then it is closed",
    )
    body_timeout: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description="seconds a request body may go without a byte arriving; then the "
        "connection is closed",
    )
    health_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="a port of its own for the health routes, answered by a thread however "
        "busy the event loop is (default: none; they are on the API port too)",
    )
    metrics: bool = Field(
        default=True,
        description="collect Prometheus metrics and serve them at GET /metrics on the API port "
        "(admin token) and on HOOKD_METRICS_ADDRESS; false: collect nothing",
    )
    metrics_address: str = Field(
        default="",
        description="host:port of a listener of its own serving GET /metrics without "
        "authentication, for a scraper on a private network, e.g. 127.0.0.1:9464 (default: "
        "none; the only way a --role worker process serves its metrics)",
    )
    metrics_app_labels: bool = Field(
        default=False,
        description="label the per-message metrics (messages, attempts, calls) with the "
        "application id",
    )
    metrics_app_label_limit: int = Field(
        default=100,
        ge=1,
        le=100_000,
        description="applications labelled by id at most (HOOKD_METRICS_APP_LABELS); the "
        'others are counted under app="other"',
    )
    max_connections_per_address: int = Field(
        default=512,
        ge=0,
        description="open connections one client address may hold; 0: no cap (trusted "
        "proxies are never capped)",
    )

    smtp_host: str = Field(
        default="",
        description="the SMTP server that email alert channels send through (default: none; "
        "email channels cannot be created without it)",
    )
    smtp_port: int = Field(
        default=587, ge=1, le=65535, description="its port (587 for STARTTLS, 465 for TLS)"
    )
    smtp_username: str | None = Field(default=None, description="log in as (default: no login)")
    smtp_password: SecretStr | None = Field(default=None, description="the login's password")
    smtp_from: str = Field(
        default="",
        description="the From of alert emails, e.g. 'hookd <alerts@example.com>' (required with "
        "HOOKD_SMTP_HOST)",
    )
    smtp_starttls: bool = Field(
        default=True,
        description="upgrade the connection with STARTTLS, and refuse a server that cannot",
    )
    smtp_tls: bool = Field(
        default=False,
        description="TLS from the first byte (port 465) instead of STARTTLS",
    )

    @field_validator("queue_url")
    @classmethod
    def _check_queue_url(cls, value: str) -> str:
        if not value:
            return value
        url = urlsplit(value)
        if url.scheme not in ("redis", "rediss"):
            raise ValueError("must be a redis:// or rediss:// URL")
        try:
            url.port  # noqa: B018 (parses the port)
        except ValueError as exc:
            raise ValueError(f"bad port: {exc}") from None
        if not url.hostname:
            raise ValueError("must name a host, e.g. redis://127.0.0.1:6379/0")
        database = url.path.strip("/")
        if database and not database.isdigit():
            raise ValueError("the path must be a database number, e.g. redis://host:6379/0")
        if importlib.util.find_spec("redis") is None:
            raise ValueError("needs the redis package: pip install 'hookd[redis]'")
        return value

    @field_validator("metrics_address")
    @classmethod
    def _check_metrics_address(cls, value: str) -> str:
        if value:
            metrics_listen_address(value)
        return value

    @field_validator("smtp_from")
    @classmethod
    def _check_smtp_from(cls, value: str) -> str:
        if not value:
            return value
        _, address = parseaddr(value)
        if "@" not in address or any(ch in value for ch in "\r\n"):
            raise ValueError("must be an email address, e.g. 'hookd <alerts@example.com>'")
        return value

    @field_validator("retry_schedule", mode="before")
    @classmethod
    def _parse_schedule(cls, value: object) -> object:
        if isinstance(value, str):
            return RetrySchedule.parse(value).delays
        return value

    @field_validator("delivery_processes", mode="before")
    @classmethod
    def _parse_processes(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() == "auto":
            return min(os.cpu_count() or 1, AUTO_PROCESSES_MAX)
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("portal_frame_ancestors")
    @classmethod
    def _check_frame_ancestors(cls, value: str) -> str:
        return frame_ancestors(value)

    @field_validator("allow_networks", "trusted_proxies", mode="before")
    @classmethod
    def _parse_networks(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(part.strip() for part in value.split(",") if part.strip())
        if isinstance(value, list | tuple):
            parse_networks(str(item) for item in value)  # reject bad CIDRs at start-up
            return tuple(str(item) for item in value)
        return value

    @model_validator(mode="after")
    def _check_smtp(self) -> Settings:
        if self.smtp_host and not self.smtp_from:
            raise ValueError("HOOKD_SMTP_FROM is required with HOOKD_SMTP_HOST")
        return self

    @property
    def data_dir(self) -> Path:
        """Where the embedded database and the generated admin token live."""
        url = self.effective_database_url
        if url.startswith("sqlite"):
            path = url.split(":///", 1)[-1]
            if path and path != ":memory:":
                return Path(path).parent
        return DEFAULT_DATA_DIR

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{DEFAULT_DATA_DIR / 'hookd.db'}"

    @property
    def effective_public_url(self) -> str:
        """Where providers reach this server, without a trailing slash."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def own_address(self) -> tuple[str, int] | None:
        """Host and port of the public URL, which the SSRF guard lets endpoints reach
        (``HOOKD_ALLOW_OWN_URL``); None when it is off."""
        if not self.allow_own_url:
            return None
        return url_address(self.effective_public_url)

    @property
    def schedule(self) -> RetrySchedule:
        return RetrySchedule(delays=self.retry_schedule, max_retry_after=self.max_retry_after)

    @property
    def breaker(self) -> BreakerPolicy:
        return BreakerPolicy(
            threshold=self.breaker_failures,
            cooldown=timedelta(seconds=self.breaker_cooldown),
            disable_after=timedelta(seconds=self.disable_after),
        )

    @property
    def networks(self) -> tuple[Network, ...]:
        return parse_networks(self.allow_networks)

    @property
    def proxy_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies)


# The groups of the settings, in the order `hookd serve --help` shows them (its help panels) and
# the console's Settings page lists them. A new setting needs a group (a test walks
# ``Settings.model_fields``).
SETTING_GROUPS: Mapping[str, tuple[str, ...]] = {
    "Server": (
        "host",
        "port",
        "role",
        "public_url",
        "health_port",
        "max_payload_bytes",
        "header_timeout",
        "body_timeout",
        "max_connections_per_address",
        "trusted_proxies",
    ),
    "Database": ("database_url", "sqlite_busy_timeout", "queue_url", "queue_prefix"),
    "Delivery": (
        "retry_schedule",
        "max_retry_after",
        "request_timeout",
        "signature_headers",
        "concurrency",
        "endpoint_concurrency",
        "delivery_processes",
        "breaker_failures",
        "breaker_cooldown",
        "disable_after",
        "poll_interval",
        "lease_seconds",
        "shutdown_grace",
        "thin_link_ttl_seconds",
        "validate_payloads",
    ),
    "Transformations": ("transform_timeout_ms", "transform_max_memory_mb", "transform_workers"),
    "Receiving": (
        "bin_max_requests",
        "bin_max_body_bytes",
        "dedup_window_seconds",
        "rejected_body_bytes",
        "rejected_coalesce_seconds",
        "rejected_rate_limit",
        "relay_answer_timeout",
    ),
    "Retention": (
        "retention_days",
        "rejected_retention_days",
        "stats_retention_days",
        "prune_interval",
    ),
    "Security": (
        "admin_token",
        "main_key",
        "allow_networks",
        "allow_own_url",
        "portal_frame_ancestors",
    ),
    "Observability": (
        "log_level",
        "log_format",
        "log_sql",
        "metrics",
        "metrics_address",
        "metrics_app_labels",
        "metrics_app_label_limit",
    ),
    "Alerts": (
        "alert_interval",
        "smtp_host",
        "smtp_port",
        "smtp_username",
        "smtp_password",
        "smtp_from",
        "smtp_starttls",
        "smtp_tls",
    ),
}
OTHER_SETTINGS = "Other settings"


def setting_group(name: str) -> str:
    """The group of the setting ``name`` (``OTHER_SETTINGS`` when none names it)."""
    return next((group for group, names in SETTING_GROUPS.items() if name in names), OTHER_SETTINGS)
