"""Every table hookd keeps. Times are integer Unix milliseconds (UTC), the same on every dialect."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

applications = Table(
    "applications",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("uid", String(256), unique=True),
    Column("name", String(256), nullable=False),
    Column("rate_limit", Integer),
    Column("meta", JSON, nullable=False),
    # "app" (the Svix tenants) or "source" (the application an inbound source forwards through).
    Column("kind", String(16), nullable=False, default="app", server_default="app"),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_applications_kind", "kind", "id"),
)

endpoints = Table(
    "endpoints",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("app_id", String(40), ForeignKey("applications.id", ondelete="CASCADE"), nullable=False),
    Column("uid", String(256)),
    Column("url", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("version", Integer),  # NULL: the latest payload version
    Column("disabled", Boolean, nullable=False),
    Column("filter_types", JSON),
    Column("channels", JSON),
    Column("rate_limit", Integer),
    Column("meta", JSON, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("secret", Text, nullable=False),
    Column("old_secrets", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # Synchronous call settings (hookd.core.calls.plan).
    Column("method", String(8), nullable=False, server_default="POST"),
    Column("timeout_ms", Integer, nullable=False, server_default="5000"),
    Column("url_template", Text),
    Column("body_template", Text),
    Column("response_mapping", JSON),
    Column("fallback_response", JSON),  # {"status": int, "body": any}
    Column("retry_async", Boolean, nullable=False, server_default=text("false")),
    # Endpoint authentication (hookd.core.endpoint_auth), for calls and deliveries alike.
    Column("auth", JSON),
    Column("tls", JSON),
    Column("thin", Boolean, nullable=False, default=False, server_default=text("false")),
    Column("filter", JSON),  # a JSON operator filter document, or NULL for none
    Column("transformation", JSON),  # {"code": ..., "enabled": ...}, or NULL for none
    # Strict ordering: one delivery in flight, the next waits for success or dead letter.
    Column("fifo", Boolean, nullable=False, default=False, server_default=text("false")),
    # Batch webhooks: up to batch_size messages per POST, the first waiting at most the max wait.
    Column("batch_size", Integer),
    Column("batch_max_wait_ms", Integer),
    # Send W3C trace context with each request when tracing is on (hookd.tracing).
    Column("trace_context", Boolean, nullable=False, default=True, server_default=text("true")),
    UniqueConstraint("app_id", "uid", name="uq_endpoints_app_uid"),
    Index("ix_endpoints_app", "app_id", "id"),
)

event_types = Table(
    "event_types",
    metadata,
    Column("name", String(256), primary_key=True),
    Column("description", Text, nullable=False),
    Column("schemas", JSON),
    Column("archived", Boolean, nullable=False),
    Column("deprecated", Boolean, nullable=False),
    Column("feature_flags", JSON, nullable=False),
    Column("group_name", String(256)),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("app_id", String(40), ForeignKey("applications.id", ondelete="CASCADE"), nullable=False),
    Column("event_type", String(256), nullable=False),
    Column("event_id", String(256)),
    Column("channels", JSON),
    Column("tags", JSON),
    # The exact bytes accepted: stored, signed and sent as they are (never re-serialized).
    Column("payload", LargeBinary),
    # Ingested messages only: the original Content-Type and the request headers to forward.
    Column("content_type", String(256)),
    Column("headers", JSON),
    Column("created_at", BigInteger, nullable=False),
    # The version of ``payload``, and the other versions in message_versions (NULL: none).
    Column("version", Integer, nullable=False, default=1, server_default=text("1")),
    Column("other_versions", JSON),
    # When the payload is expunged (payloadRetentionPeriod); the record and attempts stay.
    Column("payload_expires_at", BigInteger),
    # The producer's deliverAt (Unix ms), echoed on create and get; deliveries carry the wait.
    Column("deliver_at", BigInteger),
    # The W3C trace context of the span that created the message (tracing on), which its
    # attempts continue: traceparent and tracestate as the headers carry them.
    Column("traceparent", String(55)),
    Column("tracestate", Text),
    # The request id (X-Request-Id) of the API or /in/ request that created it: the worker's
    # attempt log lines name it (docs/observability.md). Not in the Svix API's answers.
    Column("request_id", String(128)),
    UniqueConstraint("app_id", "event_id", name="uq_messages_app_event_id"),
    Index("ix_messages_app", "app_id", "id"),
    # Payloads still to expunge: expunged rows leave the index.
    Index(
        "ix_messages_payload_expiry",
        "payload_expires_at",
        sqlite_where=text("payload IS NOT NULL"),
        postgresql_where=text("payload IS NOT NULL"),
    ),
)

# The exact bytes of every payload version a message carries besides its own ``payload``.
message_versions = Table(
    "message_versions",
    metadata,
    Column(
        "msg_id",
        String(40),
        ForeignKey("messages.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("version", Integer, primary_key=True),
    Column("payload", LargeBinary, nullable=False),
)

# Keys hookd generates for itself, shared by every process on the database (thin links).
server_keys = Table(
    "server_keys",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("key", LargeBinary, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# One row per (message, endpoint): the unit the delivery worker claims.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("msg_id", String(40), ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column(
        "endpoint_id", String(40), ForeignKey("endpoints.id", ondelete="CASCADE"), nullable=False
    ),
    Column("app_id", String(40), nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", BigInteger),
    Column("lease_until", BigInteger),
    Column("manual", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("msg_id", "endpoint_id", name="uq_deliveries_msg_endpoint"),
    Index("ix_deliveries_endpoint", "endpoint_id", "status", "msg_id"),
    # An endpoint's due work, oldest first (the per-endpoint claim).
    Index(
        "ix_deliveries_endpoint_due",
        "endpoint_id",
        "next_attempt_at",
        sqlite_where=text("status = 1"),
        postgresql_where=text("status = 1"),
    ),
    # Due work: only pending rows are indexed, so the claim query never scans finished ones.
    Index(
        "ix_deliveries_due",
        "next_attempt_at",
        sqlite_where=text("status = 1"),
        postgresql_where=text("status = 1"),
    ),
    Index(
        "ix_deliveries_leased",
        "lease_until",
        sqlite_where=text("status = 3"),
        postgresql_where=text("status = 3"),
    ),
    # Messages with a delivery still to make (pending or sending): the prune keeps those.
    Index(
        "ix_deliveries_unfinished",
        "msg_id",
        sqlite_where=text("status IN (1, 3)"),
        postgresql_where=text("status IN (1, 3)"),
    ),
)

# The scheduler's per-endpoint state (stack.md 3.6: the endpoint is the unit of scheduling).
# A row appears with an endpoint's first delivery; ``ready_at`` is never later than the earliest
# moment the endpoint may have work (NULL: nothing until a delivery is added or one finishes).
endpoint_state = Table(
    "endpoint_state",
    metadata,
    Column(
        "endpoint_id",
        String(40),
        ForeignKey("endpoints.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("ready_at", BigInteger),
    Column("served_at", BigInteger, nullable=False, default=0, server_default="0"),
    # Circuit breaker: consecutive failures, start of the failing streak, open circuit until.
    Column("failures", Integer, nullable=False, default=0, server_default="0"),
    Column("first_failure_at", BigInteger),
    Column("open_until", BigInteger),
    # Token bucket for the endpoint's rateLimit.
    Column("tokens", Float),
    Column("tokens_at", BigInteger),
    Index("ix_endpoint_state_ready", "ready_at"),
)

# SQLite only: one row whose ``version`` triggers raise on every write to applications,
# endpoints and event types, by any process or tool. A process that caches them
# (``store.config_cache``) reads it in each transaction that uses the cache, so a write by
# another process on the same file (a delivery process disabling an endpoint) is seen at once.
config_clock = Table(
    "config_clock",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False, default=0, server_default="0"),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("msg_id", String(40), ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column(
        "endpoint_id", String(40), ForeignKey("endpoints.id", ondelete="CASCADE"), nullable=False
    ),
    Column("app_id", String(40), nullable=False),
    Column("url", Text, nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("response_status_code", Integer, nullable=False),
    Column("response", Text, nullable=False),
    Column("response_duration_ms", Integer, nullable=False),
    Column("trigger_type", SmallInteger, nullable=False),
    Column("attempt_number", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_attempts_endpoint", "endpoint_id", "id"),
    Index("ix_attempts_msg", "msg_id", "id"),
)

# Idempotency-Key records: the first 2xx response to a key is replayed for 12 hours.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("state", String(8), nullable=False),  # "started" or "done"
    # sha256 (hex) of the request the key was first used for; NULL for keys stored before it
    # was kept (never compared).
    Column("fingerprint", String(64)),
    Column("status_code", Integer),
    Column("content_type", String(128)),
    Column("body", LargeBinary),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_idempotency_expires", "expires_at"),
)

# An inbound source; its id is also the id of the application (kind "source") it forwards through.
sources = Table(
    "sources",
    metadata,
    Column("id", String(40), ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True),
    Column("uid", String(256), unique=True),
    Column("name", String(256), nullable=False),
    Column("type", String(64), nullable=False),  # as the caller sent it (Svix's source type)
    Column("provider", String(64), nullable=False),  # the hookd.core.providers name it maps to
    Column("config", JSON, nullable=False),
    # The secret part of the ingest URL; rotating it makes the old URL stop working.
    Column("token", String(64), nullable=False, unique=True),
    Column("meta", JSON, nullable=False),
    # The static answer to accepted requests; NULL status means the provider's default.
    Column("response_status", Integer),
    Column("response_content_type", String(256)),
    Column("response_body", LargeBinary),
    Column("dedup_window_seconds", Integer),  # NULL: HOOKD_DEDUP_WINDOW_SECONDS
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# Every request to /in/{source} except those refused before the source was known (404, 405, 413).
inbound_requests = Table(
    "inbound_requests",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("source_id", String(40), ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("method", String(16), nullable=False),
    Column("url", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("query", Text, nullable=False),
    Column("headers", JSON, nullable=False),  # [[name, value], ...]: repeated names kept
    Column("body", LargeBinary, nullable=False),
    Column("remote_ip", String(64)),
    Column("outcome", String(16), nullable=False),  # accepted | duplicate | rejected | handshake
    Column("code", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("response_status", Integer, nullable=False),
    Column("dedup_key", String(256)),
    Column("event_type", String(256)),
    Column("msg_id", String(40), ForeignKey("messages.id", ondelete="SET NULL")),
    # The body's full size when only its first HOOKD_REJECTED_BODY_BYTES were kept (else NULL).
    Column("body_size", Integer),
    # Rejections from one address coalesced into this record: how many, and the last one's time.
    Column("request_count", Integer, nullable=False, server_default="1"),
    Column("last_received_at", BigInteger),
    Index("ix_inbound_requests_source", "source_id", "id"),
    # Deleting a message sets msg_id to NULL here: without this index every delete scans the table.
    Index("ix_inbound_requests_msg", "msg_id"),
    Index("ix_inbound_requests_outcome", "source_id", "outcome", "id"),
    # The duplicate check: an accepted request with this key for this source, recently.
    Index("ix_inbound_requests_dedup", "source_id", "dedup_key", "received_at"),
    # The retention of rejected requests (HOOKD_REJECTED_RETENTION_DAYS) finds them by id.
    Index(
        "ix_inbound_requests_rejected",
        "id",
        sqlite_where=text("outcome = 'rejected'"),
        postgresql_where=text("outcome = 'rejected'"),
    ),
)

# Svix's background tasks (GET /api/v1/background-task): recover and the bulk operations. A
# running task's ``updated_at`` is its heartbeat (the runner writes progress into ``data``).
background_tasks = Table(
    "background_tasks",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("task", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("app_id", String(40)),
    Column("data", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# API keys (hookd.core.access.ApiKey): the token is kept only as its SHA-256 digest.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("scope", String(16), nullable=False),  # admin, read_only or application
    Column("app_id", String(40), ForeignKey("applications.id", ondelete="CASCADE")),
    Column("digest", LargeBinary(32), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("last_used_at", BigInteger),  # to the minute (services.access.tokens)
    Column("expires_at", BigInteger),
)

# App portal tokens (Svix's app portal access; hookd.core.access.PortalToken), as digests too.
# Deleted when their application is; expired ones are deleted when the next one is made.
portal_tokens = Table(
    "portal_tokens",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("app_id", String(40), ForeignKey("applications.id", ondelete="CASCADE"), nullable=False),
    Column("digest", LargeBinary(32), nullable=False, unique=True),
    Column("capabilities", JSON, nullable=False),
    Column("feature_flags", JSON, nullable=False),
    Column("session_id", String(256)),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_portal_tokens_app", "app_id", "session_id"),
    Index("ix_portal_tokens_expires", "expires_at"),
)

# Where alert issues' notices go (services.alerts): Slack, Teams, Discord, email or a webhook.
# ``config`` is sealed (the incoming-webhook URLs are credentials); a webhook channel's URL and
# signing secret live on its endpoint, in the hidden application of kind "alert".
alert_channels = Table(
    "alert_channels",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("type", String(16), nullable=False),
    Column("config", JSON, nullable=False),
    Column("disabled", Boolean, nullable=False, default=False, server_default=text("false")),
    Column("endpoint_id", String(40), ForeignKey("endpoints.id", ondelete="SET NULL")),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)
# Counters rolled up as attempts are recorded (core.rollups): one row per endpoint and minute
# (``minute``: the minute's start, Unix ms), written by the worker's flush and by calls in the
# transaction that records the attempts. No foreign key: a deleted endpoint's counts stay
# (statistics of a period) until the stats retention prunes them.
endpoint_rollups = Table(
    "endpoint_rollups",
    metadata,
    Column("endpoint_id", String(40), primary_key=True),
    Column("minute", BigInteger, primary_key=True),
    Column("app_id", String(40), nullable=False),
    Column("success", Integer, nullable=False, default=0, server_default="0"),
    Column("fail", Integer, nullable=False, default=0, server_default="0"),
    Column("canceled", Integer, nullable=False, default=0, server_default="0"),
    Column("fail_4xx", Integer, nullable=False, default=0, server_default="0"),
    Column("fail_5xx", Integer, nullable=False, default=0, server_default="0"),
    Column("fail_no_response", Integer, nullable=False, default=0, server_default="0"),
    Column("transform_failures", Integer, nullable=False, default=0, server_default="0"),
    Column("destinations", Integer, nullable=False, default=0, server_default="0"),
    # The windows over every endpoint (global rules, application usage, the prune).
    Index("ix_endpoint_rollups_minute", "minute", "app_id"),
)

# Inbound requests rolled up per source and minute, by outcome, in the ingest group commit.
source_rollups = Table(
    "source_rollups",
    metadata,
    Column("source_id", String(40), primary_key=True),
    Column("minute", BigInteger, primary_key=True),
    Column("accepted", Integer, nullable=False, default=0, server_default="0"),
    Column("duplicate", Integer, nullable=False, default=0, server_default="0"),
    Column("rejected", Integer, nullable=False, default=0, server_default="0"),
    Column("handshake", Integer, nullable=False, default=0, server_default="0"),
    Index("ix_source_rollups_minute", "minute"),
)

# Alert rules (core.alerts.rules): what to watch, where, and whom to tell (channel ids).
alert_rules = Table(
    "alert_rules",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("description", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("scope_id", String(40)),
    Column("threshold", Float, nullable=False),
    Column("window_seconds", Integer),
    Column("min_volume", Integer),
    Column("escalate_threshold", Float),
    Column("escalate_after_seconds", Integer),
    Column("quiet_period_seconds", Integer, nullable=False),
    Column("channels", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# What a rule's firing opened: one unresolved issue at most per (rule, subject), by index.
alert_issues = Table(
    "alert_issues",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("rule_id", String(40), ForeignKey("alert_rules.id", ondelete="CASCADE"), nullable=False),
    Column("subject", String(40), nullable=False),  # the endpoint or source id
    Column("app_id", String(40)),
    Column("kind", String(32), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # open | acknowledged | resolved
    Column("value", Float, nullable=False),
    Column("peak_value", Float, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("summary", Text, nullable=False),
    Column("opened_at", BigInteger, nullable=False),
    Column("acknowledged_at", BigInteger),
    Column("escalated_at", BigInteger),
    Column("cleared_at", BigInteger),
    Column("resolved_at", BigInteger),
    Column("updated_at", BigInteger, nullable=False),
    Index(
        "uq_alert_issues_unresolved",
        "rule_id",
        "subject",
        unique=True,
        sqlite_where=text("status != 'resolved'"),
        postgresql_where=text("status != 'resolved'"),
    ),
    Index("ix_alert_issues_status", "status", "id"),
)

# Leases that make one process at a time do a job (the alert evaluator): taken with one
# UPDATE ... WHERE the lease ran out, renewed by its holder.
leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    # How many times the lease changed hands (a new holder took it).
    Column("generation", BigInteger, nullable=False, default=1, server_default="1"),
)

# Console sign-ins (hookd.api.console): sessions and one-time login links. Only the SHA-256 of
# each random token is kept (hex), so whoever reads the table cannot sign in with it.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("principal", String(256), nullable=False),  # who signed in (api.auth's principal)
    Column("created_at", BigInteger, nullable=False),
    Column("seen_at", BigInteger, nullable=False),  # the last time the expiry was pushed back
    Column("expires_at", BigInteger, nullable=False),  # sliding, never past the absolute limit
    Index("ix_console_sessions_expires", "expires_at"),
)

console_links = Table(
    "console_links",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("principal", String(256), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_console_links_expires", "expires_at"),
)
