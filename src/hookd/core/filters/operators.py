"""The ``$`` operators of JSON filters: each checks its operand once and returns a matcher."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

from hookd.core.filters.values import (
    MISSING,
    FilterError,
    FilterPath,
    Matcher,
    all_of,
    compare,
    is_number,
    json_equal,
    type_name,
)

MAX_REGEX_LENGTH = 200


class Compiler(Protocol):
    """What operators need from the filter compiler (``hookd.core.filters.match``)."""

    def node(self, value: object, path: FilterPath) -> Matcher:
        """Compile a nested filter."""
        ...

    def literal(self, value: object, path: FilterPath) -> object:
        """Check that an operand is JSON, counting it against the size limit."""
        ...

    def filters(self, operand: object, path: FilterPath) -> list[Matcher]:
        """Compile a non-empty array of filters."""
        ...


Operator = Callable[[Compiler, object, FilterPath], Matcher]


def _expect_string(operand: object, path: FilterPath) -> str:
    if not isinstance(operand, str):
        raise FilterError(path, f"expects a string, got {type_name(operand)}")
    return operand


def _eq(compiler: Compiler, operand: object, path: FilterPath) -> Matcher:
    expected = compiler.literal(operand, path)
    return lambda data: json_equal(data, expected)


def _neq(compiler: Compiler, operand: object, path: FilterPath) -> Matcher:
    equal = _eq(compiler, operand, path)
    return lambda data: not equal(data)


def _ordering(accept: Callable[[int], bool]) -> Operator:
    def build(compiler: Compiler, operand: object, path: FilterPath) -> Matcher:
        compiler.literal(operand, path)
        if not (is_number(operand) or isinstance(operand, str)):
            raise FilterError(path, f"expects a number or a string, got {type_name(operand)}")
        bound = operand

        def ordered(data: object) -> bool:
            order = compare(data, bound)
            return order is not None and accept(order)

        return ordered

    return build


def _in(compiler: Compiler, operand: object, path: FilterPath) -> Matcher:
    compiler.literal(operand, path)
    if not isinstance(operand, list | tuple):
        raise FilterError(path, f"expects an array of values, got {type_name(operand)}")
    choices = list(operand)

    def one_of(data: object) -> bool:
        # Mongo's rule: an array value is "in" when any of its elements is.
        candidates = data if isinstance(data, list | tuple) else (data,)
        return any(json_equal(item, choice) for item in candidates for choice in choices)

    return one_of


def _nin(compiler: Compiler, operand: object, path: FilterPath) -> Matcher:
    within = _in(compiler, operand, path)
    return lambda data: not within(data)


def _starts_with(compiler: Compiler, operand: object, path: FilterPath) -> Matcher:
    prefix = _expect_string(operand, path)
    return lambda data: isinstance(data, str) and data.startswith(prefix)


def _ends_with(compiler: Compiler, operand: object, path: FilterPath) -> Matcher:
    suffix = _expect_string(operand, path)
    return lambda data: isinstance(data, str) and data.endswith(suffix)


def _contains(compiler: Compiler, operand: object, path: FilterPath) -> Matcher:
    needle = compiler.literal(operand, path)

    def contains(data: object) -> bool:
        if isinstance(data, str):
            return isinstance(needle, str) and needle in data
        if isinstance(data, list | tuple):
            return any(json_equal(element, needle) for element in data)
        return False

    return contains


def _exist(compiler: Compiler, operand: object, path: FilterPath) -> Matcher:
    if not isinstance(operand, bool):
        raise FilterError(path, f"expects true or false, got {type_name(operand)}")
    wanted = operand
    return lambda data: (data is not MISSING) is wanted


def _regex(compiler: Compiler, operand: object, path: FilterPath) -> Matcher:
    pattern = _expect_string(operand, path)
    if len(pattern) > MAX_REGEX_LENGTH:
        raise FilterError(path, f"pattern is longer than {MAX_REGEX_LENGTH} characters")
    options = re2.Options()
    options.log_errors = False  # a bad user pattern is reported as FilterError, not logged
    try:
        # RE2 matches in linear time, so no pattern can backtrack catastrophically.
        compiled = re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid pattern"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise FilterError(path, f"invalid regular expression: {reason}") from None

    def search(data: object) -> bool:
        if not isinstance(data, str):
            return False
        try:
            return compiled.search(data) is not None
        except UnicodeEncodeError:
            # RE2 works on UTF-8; a lone surrogate (possible from a lenient JSON parser)
            # cannot be encoded, so search a copy with it replaced instead of raising.
            cleaned = data.encode("utf-8", "replace").decode("utf-8")
            return compiled.search(cleaned) is not None

    return search


def _size(compiler: Compiler, operand: object, path: FilterPath) -> Matcher:
    if not isinstance(operand, int) or isinstance(operand, bool) or operand < 0:
        raise FilterError(path, "expects a non-negative integer")
    length = operand
    return lambda data: isinstance(data, list | tuple) and len(data) == length


def _and(compiler: Compiler, operand: object, path: FilterPath) -> Matcher:
    return all_of(compiler.filters(operand, path))


def _or(compiler: Compiler, operand: object, path: FilterPath) -> Matcher:
    alternatives = compiler.filters(operand, path)
    return lambda data: any(match(data) for match in alternatives)


def _not(compiler: Compiler, operand: object, path: FilterPath) -> Matcher:
    negated = compiler.node(operand, path)
    return lambda data: not negated(data)


OPERATORS: dict[str, Operator] = {
    "$eq": _eq,
    "$neq": _neq,
    "$gt": _ordering(lambda order: order > 0),
    "$gte": _ordering(lambda order: order >= 0),
    "$lt": _ordering(lambda order: order < 0),
    "$lte": _ordering(lambda order: order <= 0),
    "$in": _in,
    "$nin": _nin,
    "$startsWith": _starts_with,
    "$endsWith": _ends_with,
    "$contains": _contains,
    "$exist": _exist,
    "$regex": _regex,
    "$size": _size,
    "$and": _and,
    "$or": _or,
    "$not": _not,
}
