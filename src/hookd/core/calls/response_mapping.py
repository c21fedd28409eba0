"""Response mapping: named outputs picked from a call's JSON response with JSONPath (RFC 9535).

``{"status": "$.order.status"}`` over ``{"order": {"status": "shipped"}}`` gives
``{"status": "shipped"}``. One match gives the value, several give a list, none gives null.
The regex functions (``match``, ``search``) are left out: a caller's pattern must not be able to
stall the API process on a large response.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jsonpath import JSONPath, JSONPathEnvironment, JSONPathError
from jsonpath.path import CompoundJSONPath

MAX_OUTPUTS = 50
OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,127}$")


class MappingError(ValueError):
    """A mapping entry that cannot be used; ``name`` is the output it belongs to."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def _environment() -> JSONPathEnvironment:
    env = JSONPathEnvironment()
    for name in ("match", "search"):
        env.function_extensions.pop(name, None)
    return env


_ENV = _environment()


@lru_cache(maxsize=1024)
def compile_path(expression: str) -> JSONPath | CompoundJSONPath:
    """Parse one JSONPath expression; raise ValueError saying what is wrong with it."""
    if not expression.startswith("$"):
        raise ValueError(f"{expression!r} is not a JSONPath expression (it must start with '$')")
    try:
        return _ENV.compile(expression)
    except JSONPathError as exc:
        raise ValueError(f"{expression!r} is not a valid JSONPath expression: {exc}") from exc


def check_mapping(mapping: Mapping[str, str]) -> None:
    """Raise MappingError for the first bad output name or expression."""
    if len(mapping) > MAX_OUTPUTS:
        raise MappingError("", f"at most {MAX_OUTPUTS} outputs")
    for name, expression in mapping.items():
        if not OUTPUT_NAME.match(name):
            raise MappingError(
                name, f"output name {name!r} must be 1-128 letters, digits, '_' or '-'"
            )
        try:
            compile_path(expression)
        except ValueError as exc:
            raise MappingError(name, str(exc)) from exc


def apply_mapping(mapping: Mapping[str, str], document: Any) -> dict[str, Any]:
    """Every output's value in ``document`` (None when the document is None or nothing matches)."""
    outputs: dict[str, Any] = {}
    for name, expression in mapping.items():
        found = [] if document is None else compile_path(expression).findall(document)
        outputs[name] = None if not found else found[0] if len(found) == 1 else found
    return outputs
