"""Call templates: fill an endpoint's URL and body templates from a call's ``params``.

Two spellings of a reference are accepted, both naming a (dotted) path into ``params``:
Dialogflow CX's flexible-webhook style ``$session.params.user_id`` and ``{{ params.user_id }}``.
Values are URL-encoded in URLs. In bodies (JSON) a reference inside a string literal is replaced
by the JSON-escaped text of the value, and a reference outside a string by the value as JSON,
so a body template that is valid JSON stays valid JSON whatever the values are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import orjson

_NAME = r"[A-Za-z_][A-Za-z0-9_\-]*"
_PATH = rf"{_NAME}(?:\.{_NAME})*"
PLACEHOLDER = re.compile(
    rf"\$session\.params\.(?P<cx>{_PATH})|\{{\{{\s*params\.(?P<mustache>{_PATH})\s*\}}\}}"
)
# What looks like a reference but is not one of the two spellings above.
_SUSPECT = re.compile(r"\{\{.*?\}\}|\$session(?:\.[\w\-]+)*", re.DOTALL)
# A sample value for checking that a template renders to something valid.
SAMPLE_VALUE = "x"


class TemplateError(ValueError):
    """A template that cannot be used as written."""


class MissingParam(TemplateError):
    """A template references a param the call did not send."""

    def __init__(self, name: str) -> None:
        super().__init__(f"the template references param {name!r}, which the call did not send")
        self.name = name


def check_syntax(template: str) -> None:
    """Raise TemplateError for ``{{ ... }}`` or ``$session...`` text that is not a reference."""
    for match in _SUSPECT.finditer(template):
        if not PLACEHOLDER.fullmatch(match.group(0)):
            raise TemplateError(
                f"unsupported template expression {match.group(0)!r}: "
                "use {{ params.NAME }} or $session.params.NAME"
            )


def referenced_params(template: str) -> list[str]:
    """The param paths a template references, in order, without repeats."""
    return list(dict.fromkeys(_path(match) for match in PLACEHOLDER.finditer(template)))


def sample_params(template: str) -> dict[str, Any]:
    """Params that satisfy every reference of ``template`` (for validating it when saved)."""
    params: dict[str, Any] = {}
    for path in referenced_params(template):
        node = params
        *parents, leaf = path.split(".")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node.setdefault(leaf, SAMPLE_VALUE)
    return params


def lookup(params: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` in ``params``; MissingParam when any step is absent."""
    node: Any = params
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise MissingParam(path)
        node = node[part]
    return node


def render_url(template: str, params: Mapping[str, Any]) -> str:
    """Fill a URL template; every value is percent-encoded (no ``/``, ``?`` or ``#`` leaks in)."""
    return PLACEHOLDER.sub(
        lambda m: quote(_text(lookup(params, _path(m))), safe=""),
        template,
    )


def render_body(template: str, params: Mapping[str, Any]) -> str:
    """Fill a JSON body template: escaped text inside strings, JSON values outside them."""
    out: list[str] = []
    position = 0
    in_string = False
    for match in PLACEHOLDER.finditer(template):
        literal = template[position : match.start()]
        in_string = _string_state_after(literal, in_string)
        out.append(literal)
        value = lookup(params, _path(match))
        out.append(_json(_text(value))[1:-1] if in_string else _json(value))
        position = match.end()
    out.append(template[position:])
    return "".join(out)


def _path(match: re.Match[str]) -> str:
    return match.group("cx") or match.group("mustache")


def _text(value: Any) -> str:
    """A value as text: strings as they are, null as empty, anything else as its JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return _json(value)


def _json(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError as exc:
        raise TemplateError(f"a param value cannot be encoded as JSON: {exc}") from exc


def _string_state_after(text: str, in_string: bool) -> bool:
    """Whether a JSON scanner is inside a string literal after reading ``text``."""
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif in_string and char == "\\":
            escaped = True
        elif char == '"':
            in_string = not in_string
    return in_string
