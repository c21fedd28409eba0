"""``observability.logs``: one format for hookd's lines and the standard library's records."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from hookd.observability.logs import SQL_LOGGERS, _OwnHandler, configure_logging, is_console
from hookd.telemetry import REQUEST_ID

TOUCHED = ("hookd", "uvicorn", "alembic", "botocore", *SQL_LOGGERS)
# The loggers the tests write to: another test's logging.config.dictConfig (import-linter's, in
# test_layers) disables every logger that existed then, so they are enabled for these tests.
USED = (
    "uvicorn.error",
    "botocore.endpoint",
    "botocore.credentials",
    "sqlalchemy.engine.Engine",
    "alembic.runtime.migration",
)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Put structlog's configuration and the loggers this module touches back as they were."""
    config = structlog.get_config()
    root = logging.getLogger()
    level = root.level
    levels = {name: logging.getLogger(name).level for name in TOUCHED}
    disabled = {name: logging.getLogger(name).disabled for name in USED}
    for name in USED:
        logging.getLogger(name).disabled = False
    yield
    for name, was_disabled in disabled.items():
        logging.getLogger(name).disabled = was_disabled
    for handler in [h for h in root.handlers if isinstance(h, _OwnHandler)]:
        root.removeHandler(handler)
    root.setLevel(level)
    for name, value in levels.items():
        logging.getLogger(name).setLevel(value)
    structlog.reset_defaults()
    structlog.configure(**config)


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_hookd_and_library_lines_share_one_json_shape() -> None:
    stream = io.StringIO()
    configure_logging("info", log_format="json", stream=stream)
    token = REQUEST_ID.set("req-1")
    try:
        structlog.get_logger("hookd.test").info("own line", count=2)
        logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
    finally:
        REQUEST_ID.reset(token)
    structlog.get_logger("hookd.test").warning("outside a request")
    own, library, outside = json_lines(stream)
    assert list(own)[:5] == ["timestamp", "level", "logger", "event", "request_id"]
    assert own | {"timestamp": None} == {
        "timestamp": None,
        "level": "info",
        "logger": "hookd.test",
        "event": "own line",
        "request_id": "req-1",
        "count": 2,
    }
    assert library | {"timestamp": None} == {
        "timestamp": None,
        "level": "info",
        "logger": "uvicorn.error",
        "event": "Started server process [42]",
        "request_id": "req-1",
    }
    assert own["timestamp"].endswith("Z") and "request_id" not in outside


def test_console_lines_are_for_people_and_auto_follows_the_terminal() -> None:
    stream = io.StringIO()
    configure_logging("info", log_format="console", stream=stream)
    structlog.get_logger("hookd.test").info("own line", count=2)
    logging.getLogger("uvicorn.error").warning("library line")
    own, library = stream.getvalue().splitlines()
    assert "own line" in own and "count=2" in own and "[hookd.test]" in own
    assert "library line" in library and "warning" in library and "[uvicorn.error]" in library
    assert "\x1b[" not in stream.getvalue()  # no colour off a terminal
    assert is_console("auto", Terminal()) and not is_console("auto", io.StringIO())
    assert not is_console("json", Terminal()) and is_console("console", io.StringIO())
    terminal = Terminal()
    configure_logging("info", stream=terminal)
    structlog.get_logger("hookd.test").info("coloured")
    assert "\x1b[" in terminal.getvalue()


@pytest.mark.parametrize("log_format", ["json", "console"])
def test_tracebacks_show_no_local_variables(log_format: Any) -> None:
    stream = io.StringIO()
    configure_logging("info", log_format=log_format, stream=stream)

    def fail(password: str) -> None:
        raise ValueError("bad input")

    secret = "-".join(["hunter2", "local", "secret"])  # its text is in no source line
    try:
        fail(secret)
    except ValueError:
        structlog.get_logger("hookd.test").exception("failed")
        logging.getLogger("uvicorn.error").exception("library failed")
    text = stream.getvalue()
    assert text.count("ValueError: bad input") == 2  # the traceback is there, twice
    assert secret not in text


def test_levels_sql_drivers_and_other_libraries() -> None:
    stream = io.StringIO()
    configure_logging("debug", log_format="json", stream=stream)
    structlog.get_logger("hookd.test").debug("own debug")
    logging.getLogger("uvicorn.error").debug("uvicorn debug")
    logging.getLogger("botocore.endpoint").debug("signed headers: Authorization=...")
    logging.getLogger("botocore.credentials").info("Found credentials in environment")
    logging.getLogger("sqlalchemy.engine.Engine").info("INSERT ... ('tok-secret',)")
    assert [line["event"] for line in json_lines(stream)] == [
        "own debug",
        "uvicorn debug",
        "Found credentials in environment",
    ]
    stream = io.StringIO()
    configure_logging("info", sql=True, log_format="json", stream=stream)  # again: replaces
    structlog.get_logger("hookd.test").debug("own debug")
    logging.getLogger("sqlalchemy.engine.Engine").info("SELECT 1")
    logging.getLogger("alembic.runtime.migration").info("Running upgrade")
    assert [line["event"] for line in json_lines(stream)] == ["SELECT 1"]
    assert len([h for h in logging.getLogger().handlers if isinstance(h, _OwnHandler)]) == 1


def test_any_value_makes_a_json_line() -> None:
    """orjson writes the lines; what it refuses (an integer beyond 64 bits) still makes one,
    and a value JSON has no form for is its repr."""
    stream = io.StringIO()
    configure_logging("info", log_format="json", stream=stream)
    log = structlog.get_logger("hookd.test")
    log.info("big", value=2**70, other=object(), keyed={1: "one"})
    [line] = stream.getvalue().splitlines()
    parsed = json.loads(line)
    assert parsed["value"] == 2**70 and parsed["other"].startswith("<object object")
    assert list(parsed)[:4] == ["timestamp", "level", "logger", "event"]
    stream.truncate(0)
    stream.seek(0)
    log.info("small", keyed={1: "one"})
    assert json.loads(stream.getvalue())["keyed"] == {"1": "one"}
