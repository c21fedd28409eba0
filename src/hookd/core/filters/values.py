"""The JSON semantics filters are built on: strict equality, ordering, paths and errors.

Shared by the filter compiler (``hookd.core.filters.match``) and its operators
(``hookd.core.filters.operators``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import TypeGuard

PathPart = str | int
FilterPath = tuple[PathPart, ...]
Matcher = Callable[[object], bool]


class _Missing(Enum):
    """The value of a field the data does not have (distinct from JSON ``null``)."""

    MISSING = "missing"


MISSING = _Missing.MISSING


class FilterError(ValueError):
    """A filter document is invalid; ``path`` says where (for a 422 that points at the spot)."""

    def __init__(self, path: FilterPath, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{format_path(path)}: {message}" if path else message)


def format_path(path: FilterPath) -> str:
    """``("body", "items", 0, "$gt")`` -> ``body.items[0].$gt``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def is_number(value: object) -> TypeGuard[int | float]:
    # bool is an int subclass in Python but a distinct type in JSON.
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_array(value: object) -> TypeGuard[list[object] | tuple[object, ...]]:
    return isinstance(value, list | tuple)


def type_name(value: object) -> str:
    """The JSON type of ``value``, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if is_array(value) else "object"


def json_equal(left: object, right: object) -> bool:
    """Strict JSON equality: ``true != 1`` but ``1 == 1.0``; iterative, so depth cannot overflow."""
    pending = [(left, right)]
    while pending:
        a, b = pending.pop()
        if is_number(a) and is_number(b):
            if a != b:
                return False
        elif is_array(a) and is_array(b):
            if len(a) != len(b):
                return False
            pending.extend(zip(a, b, strict=True))
        elif isinstance(a, Mapping) and isinstance(b, Mapping):
            if a.keys() != b.keys():
                return False
            pending.extend((a[key], b[key]) for key in a)
        elif type(a) is not type(b) or a != b:
            # Remaining JSON types are str, bool and None, which compare by type and value.
            return False
    return True


def compare(value: object, operand: int | float | str) -> int | None:
    """-1/0/1 when ``value`` and ``operand`` are comparable (both numbers or both strings)."""
    if is_number(operand) and is_number(value):
        return (value > operand) - (value < operand)
    if isinstance(operand, str) and isinstance(value, str):
        return (value > operand) - (value < operand)
    return None


def all_of(matchers: list[Matcher]) -> Matcher:
    """A matcher that needs every one of ``matchers``."""
    if len(matchers) == 1:
        return matchers[0]
    return lambda data: all(match(data) for match in matchers)
