"""Conversions between stored column values and domain values."""

from __future__ import annotations

from datetime import datetime

from hookd.ids import from_unix_ms as from_ms
from hookd.ids import unix_ms as to_ms

__all__ = ["from_ms", "opt_from_ms", "opt_tuple", "to_ms"]


def opt_from_ms(millis: int | None) -> datetime | None:
    return None if millis is None else from_ms(millis)


def opt_tuple(values: list[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)
