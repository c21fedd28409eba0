"""Conversions between stored column values and domain values."""

from __future__ import annotations

from datetime import UTC, datetime


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_ms(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


def opt_from_ms(millis: int | None) -> datetime | None:
    return None if millis is None else from_ms(millis)


def opt_tuple(values: list[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)
