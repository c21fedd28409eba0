"""What commands read from their options: JSON values and points in time.

A JSON option (``--payload``, ``--data``, ``--config``, ...) takes JSON text, ``@path`` for a
file's, or ``-`` for stdin's. A time (``--since``, ``--until``, ``--before``, ``--after``) is a
duration back from now (``90s``, ``15m``, ``2h``, ``7d``, ``1w``; forward for an expiry) or an
ISO 8601 timestamp (UTC when it names no zone). Bad input raises ``CliError`` (exit code 2).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hookd.commands.client import CliError

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def json_value(text: str, option: str) -> Any:
    """JSON text, ``@file`` or ``-`` (stdin), parsed."""
    if text == "-":
        raw = sys.stdin.read()
    elif text.startswith("@"):
        try:
            raw = Path(text[1:]).read_text()
        except OSError as exc:
            raise CliError(f"{option}: cannot read {text[1:]}: {exc.strerror}") from exc
    else:
        raw = text
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise CliError(f"{option} is not valid JSON: {exc}") from exc


def json_object(text: str | None, option: str) -> dict[str, Any] | None:
    """A JSON object option (None when not given)."""
    if text is None:
        return None
    value = json_value(text, option)
    if not isinstance(value, dict):
        raise CliError(f"{option} must be a JSON object")
    return value


def moment(
    text: str | None, option: str, now: datetime | None = None, *, ahead: bool = False
) -> str | None:
    """A time option as an ISO 8601 UTC timestamp (None when not given); a duration counts
    back from now (``ahead``: forward)."""
    if text is None:
        return None
    found = DURATION.match(text)
    if found:
        seconds = float(found.group(1)) * UNITS[found.group(2)]
        at = (now or datetime.now(UTC)) + timedelta(seconds=seconds if ahead else -seconds)
    else:
        try:
            at = datetime.fromisoformat(text.strip())
        except ValueError:
            raise CliError(
                f"{option} must be a duration {'from' if ahead else 'back from'} now (30m, 2h, "
                f"7d) or an ISO 8601 time, not {text!r}"
            ) from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def body(data: str | None, fields: Mapping[str, Any], *, option: str = "--data") -> dict[str, Any]:
    """A request body: ``--data``'s JSON object with the flags given (not None) over it."""
    merged = json_object(data, option) or {}
    merged.update({key: value for key, value in fields.items() if value is not None})
    return merged


def pairs(values: list[str] | None, option: str) -> dict[str, str] | None:
    """``k=v`` options (repeatable) as a mapping (None when none was given)."""
    if not values:
        return None
    found: dict[str, str] = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key:
            raise CliError(f"{option} {value!r} is not key=value")
        found[key] = item
    return found
