"""The log stream: one format for hookd's own lines and every library's (uvicorn, alembic, ...).

hookd logs with structlog; the standard library's records (uvicorn's start-up and errors,
alembic, any library) are formatted by structlog's ``ProcessorFormatter`` with the same
processors, so every line of a process has one shape: a JSON object per line
(``HOOKD_LOG_FORMAT=json``), or structlog's console renderer, coloured on a terminal
(``console``); ``auto`` (the default) picks console on a terminal and JSON otherwise.

Every line carries ``timestamp`` (ISO 8601, UTC), ``level``, ``logger`` and ``event``, and, while
a request is served, its ``request_id`` (``hookd.telemetry.REQUEST_ID``, set by
``api.request_log``).

What stays out, whatever the level (docs/observability.md, "Logs"):

- the database drivers' statements (their parameters hold payloads and tokens in the clear),
  unless ``HOOKD_LOG_SQL``;
- other libraries' debug lines: ``HOOKD_LOG_LEVEL=debug`` lowers hookd's own loggers and
  uvicorn's, not those of the HTTP, broker and cloud clients, whose debug lines may carry
  credentials (signed request headers, connection URLs);
- local variables in tracebacks (structlog's rich tracebacks would print them): tracebacks are
  plain, code and exception messages only.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from typing import Any, Literal, TextIO

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from hookd.telemetry import REQUEST_ID

LogFormat = Literal["auto", "json", "console"]
# The database drivers' loggers: every statement with its parameters at debug level.
SQL_LOGGERS = ("aiosqlite", "asyncpg", "sqlalchemy.engine", "sqlalchemy.pool")
# Libraries whose lines follow HOOKD_LOG_LEVEL all the way down; every other library logs at
# info at most (its debug lines may carry credentials).
LEVELLED_LOGGERS = ("hookd", "uvicorn")


def add_request_id(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """The id of the request being served, on every line logged while serving it."""
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


# The fields a JSON line starts with (the rest follow in the order they were given).
LEADING = ("timestamp", "level", "logger", "event", "request_id")


def _dumps(value: dict[str, Any], **_: Any) -> str:
    """One JSON line (orjson: the access line of every request goes through here; a value JSON
    has no form for is written as its ``repr``; what orjson refuses, an integer beyond 64 bits,
    goes through the standard library's encoder)."""
    ordered = {key: value.pop(key) for key in LEADING if key in value}
    ordered.update(value)
    try:
        return orjson.dumps(ordered, default=repr, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(ordered, default=repr)


class NamedWriteLogger(structlog.WriteLogger):
    """structlog's ``WriteLogger`` (a line is one ``write``, under a lock per file) with the
    name given to ``structlog.get_logger(name)``, for the ``logger`` field."""

    def __init__(self, file: TextIO, name: str) -> None:
        super().__init__(file)
        self.name = name


class NamedWriteLoggerFactory:
    def __init__(self, file: TextIO) -> None:
        self.file = file

    def __call__(self, *args: Any) -> NamedWriteLogger:
        return NamedWriteLogger(self.file, str(args[0]) if args else "hookd")


class _OwnHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ``configure_logging`` puts on the root logger (and replaces when called
    again)."""


def is_console(log_format: LogFormat, stream: TextIO) -> bool:
    """Whether lines are rendered for people: ``console``, or ``auto`` on a terminal."""
    return log_format == "console" or (log_format == "auto" and _isatty(stream))


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no such method, or a closed file
        return False


def _level(name: str) -> int:
    return logging.getLevelNamesMapping().get(name.upper(), logging.INFO)


def configure_logging(
    level: str,
    *,
    sql: bool = False,
    log_format: LogFormat = "auto",
    stream: TextIO | None = None,
) -> None:
    """Send hookd's lines and the standard library's records to ``stream`` (stderr) in one
    format. ``level``: ``HOOKD_LOG_LEVEL``; ``sql``: ``HOOKD_LOG_SQL``; ``log_format``:
    ``HOOKD_LOG_FORMAT``."""
    stream = stream or sys.stderr
    numeric = _level(level)
    console = is_console(log_format, stream)
    # No ``merge_contextvars``: nothing binds structlog's context variables (the request id has
    # its own processor), and copying the context on every line was a tenth of its cost.
    shared: list[Processor] = [
        add_request_id,
        structlog.processors.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    rendering: Sequence[Processor]
    if console:
        rendering = [
            structlog.dev.ConsoleRenderer(
                colors=_isatty(stream),
                # Rich's tracebacks (the default when rich is installed) show local variables.
                exception_formatter=structlog.dev.plain_traceback,
            )
        ]
    else:
        rendering = [
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_dumps),
        ]
    structlog.configure(
        processors=[*shared, *rendering],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=NamedWriteLoggerFactory(stream),
        cache_logger_on_first_use=True,
    )

    handler = _OwnHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _OwnHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(max(numeric, logging.INFO))
    for name in LEVELLED_LOGGERS:
        logging.getLogger(name).setLevel(numeric)
    # uvicorn's own logging config (when something ran uvicorn with it in this process) gives
    # its loggers handlers of their own and stops them propagating: back to the one stream.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
        library.disabled = False
        if name != "uvicorn":
            library.setLevel(logging.NOTSET)  # the level is "uvicorn"'s, set above
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # The drivers log every statement with its parameters at debug level: only with
    # HOOKD_LOG_SQL (``sql``), never because the log level is debug.
    for name in SQL_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if sql else logging.WARNING)
