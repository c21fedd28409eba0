"""JSON operator filters, as Hookdeck, Convoy and Outpost users already write them.

A filter is a JSON object matched against a *view* of a request or a message (see
``request_view`` and ``message_view``). The rules, in short (docs/filters-and-transformations.md
has the long form):

- a plain value matches an equal value, or an array that contains an equal element;
- an object matches an object whose listed fields match (extra fields are fine), or an array
  with at least one such object; ``{}`` matches any object;
- an array matches an array that contains, for each of its elements, some matching element
  (Hookdeck's "contains" semantics; order and extra elements do not matter);
- keys starting with ``$`` are operators applied to the value itself (no implicit "any element").

Filters are validated once by ``compile_filter`` (``FilterError`` names the offending place) and
compiled into plain closures, so ``Filter.matches`` never raises on any JSON input.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeGuard

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

MAX_DEPTH = 32
MAX_NODES = 1_000
MAX_REGEX_LENGTH = 200

PathPart = str | int
FilterPath = tuple[PathPart, ...]


class _Missing(Enum):
    """The value of a field the data does not have (distinct from JSON ``null``)."""

    MISSING = "missing"


MISSING = _Missing.MISSING
Matcher = Callable[[object], bool]


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


@dataclass(frozen=True, slots=True)
class Filter:
    """A validated filter; ``matches`` is total (never raises)."""

    document: Mapping[str, object]
    _matcher: Matcher = field(repr=False, compare=False)

    def matches(self, view: object) -> bool:
        """Whether ``view`` (JSON-like data) satisfies the filter."""
        return self._matcher(view)


def compile_filter(document: Mapping[str, object]) -> Filter:
    """Validate ``document`` and compile it; raises ``FilterError`` naming the bad spot."""
    if not isinstance(document, Mapping):
        raise FilterError((), "a filter must be a JSON object")
    compiler = _Compiler()
    return Filter(document, compiler.node(document, ()))


def request_view(
    *, body: object, headers: Mapping[str, str], query: Mapping[str, object], path: str
) -> dict[str, object]:
    """The view an inbound request's filter sees; header names are lower-cased."""
    return {
        "body": body,
        "headers": {name.lower(): value for name, value in headers.items()},
        "query": dict(query),
        "path": path,
    }


def message_view(
    *, payload: object, event_type: str, channels: Sequence[str] | None
) -> dict[str, object]:
    """The view an outbound message's filter sees: the request view plus type and channels."""
    view = request_view(body=payload, headers={}, query={}, path="")
    view["event_type"] = event_type
    view["channels"] = list(channels or ())
    return view


# --- JSON semantics ---------------------------------------------------------------------------


def _is_number(value: object) -> TypeGuard[int | float]:
    # bool is an int subclass in Python but a distinct type in JSON.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_array(value: object) -> TypeGuard[list[object] | tuple[object, ...]]:
    return isinstance(value, list | tuple)


def json_equal(left: object, right: object) -> bool:
    """Strict JSON equality: ``true != 1`` but ``1 == 1.0``; iterative, so depth cannot overflow."""
    pending = [(left, right)]
    while pending:
        a, b = pending.pop()
        if _is_number(a) and _is_number(b):
            if a != b:
                return False
        elif _is_array(a) and _is_array(b):
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


def _compare(value: object, operand: int | float | str) -> int | None:
    """-1/0/1 when ``value`` and ``operand`` are comparable (both numbers or both strings)."""
    if _is_number(operand) and _is_number(value):
        return (value > operand) - (value < operand)
    if isinstance(operand, str) and isinstance(value, str):
        return (value > operand) - (value < operand)
    return None


# --- compilation ------------------------------------------------------------------------------

_Operator = Callable[["_Compiler", object, FilterPath], Matcher]


class _Compiler:
    """Walks a filter document once, checking it and building matcher closures."""

    def __init__(self) -> None:
        self.nodes = 0

    def node(self, value: object, path: FilterPath) -> Matcher:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise FilterError(path, f"filter has more than {MAX_NODES} values")
        if len(path) > MAX_DEPTH:
            raise FilterError(path, f"filter is nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, Mapping):
            return self._object(value, path)
        if _is_array(value):
            return self._array(value, path)
        return _scalar(self.literal(value, path))

    def literal(self, value: object, path: FilterPath) -> object:
        """Check that ``value`` is JSON (an operand); counted against the size limit."""
        stack = [(value, path)]
        while stack:
            item, where = stack.pop()
            self.nodes += 1
            if self.nodes > MAX_NODES:
                raise FilterError(where, f"filter has more than {MAX_NODES} values")
            if isinstance(item, Mapping):
                for key, sub in item.items():
                    if not isinstance(key, str):
                        raise FilterError(where, "object keys must be strings")
                    stack.append((sub, (*where, key)))
            elif _is_array(item):
                stack.extend((sub, (*where, index)) for index, sub in enumerate(item))
            elif isinstance(item, float) and not math.isfinite(item):
                raise FilterError(where, "numbers must be finite")
            elif item is not None and not isinstance(item, str | int | float | bool):
                raise FilterError(where, f"{type(item).__name__} is not a JSON value")
        return value

    def _object(self, document: Mapping[object, object], path: FilterPath) -> Matcher:
        operators: list[Matcher] = []
        fields: list[tuple[str, Matcher]] = []
        for key, sub in document.items():
            if not isinstance(key, str):
                raise FilterError(path, "object keys must be strings")
            where = (*path, key)
            if key.startswith("$"):
                build = _OPERATORS.get(key)
                if build is None:
                    known = ", ".join(sorted(_OPERATORS))
                    raise FilterError(where, f"unknown operator {key} (known: {known})")
                operators.append(build(self, sub, where))
            else:
                fields.append((key, self.node(sub, where)))
        if operators and not fields:
            return _all_of(operators)
        structure = _fields(fields)
        return _all_of([*operators, structure]) if operators else structure

    def _array(self, items: Sequence[object], path: FilterPath) -> Matcher:
        wanted = [self.node(item, (*path, index)) for index, item in enumerate(items)]

        def contains_all(data: object) -> bool:
            if not isinstance(data, list | tuple):
                return False
            return all(any(match(element) for element in data) for match in wanted)

        return contains_all

    def filters(self, operand: object, path: FilterPath) -> list[Matcher]:
        """Operands of ``$and``/``$or``: a non-empty array of filters."""
        if not isinstance(operand, list | tuple) or not operand:
            raise FilterError(path, "expects a non-empty array of filters")
        return [self.node(item, (*path, index)) for index, item in enumerate(operand)]


def _all_of(matchers: list[Matcher]) -> Matcher:
    if len(matchers) == 1:
        return matchers[0]
    return lambda data: all(match(data) for match in matchers)


def _scalar(expected: object) -> Matcher:
    def equal_or_contained(data: object) -> bool:
        if isinstance(data, list | tuple):
            return any(json_equal(element, expected) for element in data)
        return json_equal(data, expected)

    return equal_or_contained


def _fields(fields: list[tuple[str, Matcher]]) -> Matcher:
    def object_matches(data: object) -> bool:
        if not isinstance(data, Mapping):
            return False
        return all(match(data.get(key, MISSING)) for key, match in fields)

    def matches(data: object) -> bool:
        if isinstance(data, list | tuple):
            return any(object_matches(element) for element in data)
        return object_matches(data)

    return matches


# --- operators --------------------------------------------------------------------------------


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if _is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if _is_array(value) else "object"


def _expect_string(operand: object, path: FilterPath) -> str:
    if not isinstance(operand, str):
        raise FilterError(path, f"expects a string, got {_type_name(operand)}")
    return operand


def _eq(compiler: _Compiler, operand: object, path: FilterPath) -> Matcher:
    expected = compiler.literal(operand, path)
    return lambda data: json_equal(data, expected)


def _neq(compiler: _Compiler, operand: object, path: FilterPath) -> Matcher:
    equal = _eq(compiler, operand, path)
    return lambda data: not equal(data)


def _ordering(accept: Callable[[int], bool]) -> _Operator:
    def build(compiler: _Compiler, operand: object, path: FilterPath) -> Matcher:
        compiler.literal(operand, path)
        if not (_is_number(operand) or isinstance(operand, str)):
            raise FilterError(path, f"expects a number or a string, got {_type_name(operand)}")
        bound = operand

        def compare(data: object) -> bool:
            order = _compare(data, bound)
            return order is not None and accept(order)

        return compare

    return build


def _in(compiler: _Compiler, operand: object, path: FilterPath) -> Matcher:
    compiler.literal(operand, path)
    if not isinstance(operand, list | tuple):
        raise FilterError(path, f"expects an array of values, got {_type_name(operand)}")
    choices = list(operand)

    def one_of(data: object) -> bool:
        # Mongo's rule: an array value is "in" when any of its elements is.
        candidates = data if isinstance(data, list | tuple) else (data,)
        return any(json_equal(item, choice) for item in candidates for choice in choices)

    return one_of


def _nin(compiler: _Compiler, operand: object, path: FilterPath) -> Matcher:
    within = _in(compiler, operand, path)
    return lambda data: not within(data)


def _starts_with(compiler: _Compiler, operand: object, path: FilterPath) -> Matcher:
    prefix = _expect_string(operand, path)
    return lambda data: isinstance(data, str) and data.startswith(prefix)


def _ends_with(compiler: _Compiler, operand: object, path: FilterPath) -> Matcher:
    suffix = _expect_string(operand, path)
    return lambda data: isinstance(data, str) and data.endswith(suffix)


def _contains(compiler: _Compiler, operand: object, path: FilterPath) -> Matcher:
    needle = compiler.literal(operand, path)

    def contains(data: object) -> bool:
        if isinstance(data, str):
            return isinstance(needle, str) and needle in data
        if isinstance(data, list | tuple):
            return any(json_equal(element, needle) for element in data)
        return False

    return contains


def _exist(compiler: _Compiler, operand: object, path: FilterPath) -> Matcher:
    if not isinstance(operand, bool):
        raise FilterError(path, f"expects true or false, got {_type_name(operand)}")
    wanted = operand
    return lambda data: (data is not MISSING) is wanted


def _regex(compiler: _Compiler, operand: object, path: FilterPath) -> Matcher:
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


def _size(compiler: _Compiler, operand: object, path: FilterPath) -> Matcher:
    if not isinstance(operand, int) or isinstance(operand, bool) or operand < 0:
        raise FilterError(path, "expects a non-negative integer")
    length = operand
    return lambda data: isinstance(data, list | tuple) and len(data) == length


def _and(compiler: _Compiler, operand: object, path: FilterPath) -> Matcher:
    return _all_of(compiler.filters(operand, path))


def _or(compiler: _Compiler, operand: object, path: FilterPath) -> Matcher:
    alternatives = compiler.filters(operand, path)
    return lambda data: any(match(data) for match in alternatives)


def _not(compiler: _Compiler, operand: object, path: FilterPath) -> Matcher:
    negated = compiler.node(operand, path)
    return lambda data: not negated(data)


_OPERATORS: dict[str, _Operator] = {
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
