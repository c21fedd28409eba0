"""Lenient, type-checked reads of JSON fields in platform requests.

Platforms add fields without notice, so unknown keys are ignored and missing ones take a
default; a present field of the wrong type is a malformed request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["JsonObject", "MalformedRequest", "flag", "integer", "items", "number", "obj", "text"]

JsonObject = Mapping[str, Any]


class MalformedRequest(ValueError):
    """The request has the platform's shape but a field of the wrong type."""


def text(doc: JsonObject, key: str, default: str = "") -> str:
    """A string field; ``null`` counts as missing."""
    value = doc.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise MalformedRequest(f"{key} must be a string")
    return value


def obj(doc: JsonObject, key: str) -> JsonObject:
    """An object field; missing or ``null`` is an empty object."""
    value = doc.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedRequest(f"{key} must be an object")
    return value


def items(doc: JsonObject, key: str) -> list[JsonObject]:
    """An array-of-objects field; missing or ``null`` is an empty list."""
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise MalformedRequest(f"{key} must be an array of objects")
    return value


def number(doc: JsonObject, key: str, default: float = 0.0) -> float:
    """A numeric field (booleans are not numbers here)."""
    value = doc.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedRequest(f"{key} must be a number")
    return float(value)


def integer(doc: JsonObject, key: str, default: int = 0) -> int:
    """An integer field."""
    value = doc.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedRequest(f"{key} must be an integer")
    return value


def flag(doc: JsonObject, key: str, default: bool = False) -> bool:
    """A boolean field."""
    value = doc.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise MalformedRequest(f"{key} must be a boolean")
    return value
