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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import orjson

from hookd.core.filters.operators import OPERATORS
from hookd.core.filters.values import (
    MISSING,
    FilterError,
    FilterPath,
    Matcher,
    all_of,
    format_path,
    is_array,
    json_equal,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "Filter",
    "FilterError",
    "compile_filter",
    "format_path",
    "json_equal",
    "json_or_text",
    "message_view",
    "request_view",
]

MAX_DEPTH = 32
MAX_NODES = 1_000


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


def json_or_text(body: bytes) -> object:
    """A body as views show it: parsed JSON, or the text if it is not JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", "replace")


def message_view(
    *, payload: object, event_type: str, channels: Sequence[str] | None
) -> dict[str, object]:
    """The view an outbound message's filter sees: the request view plus type and channels."""
    view = request_view(body=payload, headers={}, query={}, path="")
    view["event_type"] = event_type
    view["channels"] = list(channels or ())
    return view


# --- compilation ------------------------------------------------------------------------------


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
        if is_array(value):
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
            elif is_array(item):
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
                build = OPERATORS.get(key)
                if build is None:
                    known = ", ".join(sorted(OPERATORS))
                    raise FilterError(where, f"unknown operator {key} (known: {known})")
                operators.append(build(self, sub, where))
            else:
                fields.append((key, self.node(sub, where)))
        if operators and not fields:
            return all_of(operators)
        structure = _fields(fields)
        return all_of([*operators, structure]) if operators else structure

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
