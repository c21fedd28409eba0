"""Values the stores cannot hold are refused at the edge: NUL characters (U+0000) and
integers beyond 64 bits.

asyncpg raises ``CharacterNotInRepertoireError`` for a NUL in any text parameter while SQLite
stores it, so without this the two databases would answer the same request with a 500 and a
201. JSON allows any integer, and Python parses one, but orjson (which writes the answers and
the JSON columns), SQLite's INTEGER and PostgreSQL's bigint hold 64 bits: a ``2**64`` nested in
an endpoint's filter would be accepted and then fail as a 500. Both rules have one answer (422
``validation``, a ``loc`` naming the field, however deep); NULs are checked by two hooks:

- :class:`NulGuard` (ASGI) checks the request's path and query string, so ids in paths and
  query parameters never reach a query;
- :func:`check_fields` runs after every request model (``CamelModel``) validates, over all its
  fields except those the model names in ``nul_allowed``: a message payload is stored as the
  JSON bytes the producer sent, where ``\\u0000`` is a legal escape and an integer keeps its
  digits.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError
from starlette.types import ASGIApp, Receive, Scope, Send

from hookd.api.errors import error

MESSAGE = "NUL characters (\\u0000) are not allowed here"
BIG_MESSAGE = "integers must fit in 64 bits (-9223372036854775808 to 9223372036854775807)"
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def _too_big(value: int) -> bool:
    return not INT64_MIN <= value <= INT64_MAX


Found = tuple[tuple[str | int, ...], str]


def _find(value: Any, loc: tuple[str | int, ...]) -> Found | None:
    """Where the first NUL or too big integer in ``value`` (strings, keys, numbers, lists,
    dicts) is, with what is wrong there, else ``None``."""
    if isinstance(value, str):
        return (loc, MESSAGE) if "\x00" in value else None
    if isinstance(value, int) and not isinstance(value, bool):
        return (loc, BIG_MESSAGE) if _too_big(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "\x00" in key:
                return (*loc, key), MESSAGE
            found = _find(item, (*loc, key))
            if found is not None:
                return found
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            found = _find(item, (*loc, index))
            if found is not None:
                return found
    return None  # floats, booleans, None, nested models (they check themselves)


def _unstorable(value: Any) -> bool:
    """Whether ``value`` holds a NUL or an integer beyond 64 bits, however deep."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, int):
        return _too_big(value)
    if isinstance(value, dict):
        for key, item in value.items():
            if _unstorable(key) or _unstorable(item):
                return True
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            if _unstorable(item):
                return True
    return False


_SKIP = (type(None), bool, float)


def check_fields(model: BaseModel, allowed: frozenset[str]) -> None:
    """Raise a ``ValidationError`` (pydantic re-locates it under the model) for a NUL or an
    integer beyond 64 bits in any field of ``model`` outside ``allowed``."""
    for name, value in model.__dict__.items():
        kind = value.__class__
        if kind is str:
            if "\x00" not in value:
                continue
        elif kind is int:
            if not _too_big(value):
                continue
        elif kind in _SKIP or name in allowed or not _unstorable(value):
            continue
        if name in allowed:
            continue
        field = type(model).model_fields.get(name)
        loc, text = _find(value, (field.alias or name if field else name,)) or ((name,), MESSAGE)
        error = InitErrorDetails(
            type=PydanticCustomError("value_error", text), loc=loc, input=value
        )
        raise ValidationError.from_exception_data(type(model).__name__, [error])


def _query_nul(query: bytes) -> tuple[str, ...] | None:
    if b"%00" not in query and b"\x00" not in query:
        return None
    pairs: Iterable[tuple[str, str]] = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            return ("query", name)
    return None


def nul_location(scope: Scope) -> tuple[str, ...] | None:
    """Where a NUL is in the request's path or query string (``("path",)``, ``("query",
    name)``), else ``None``."""
    if "\x00" in scope["path"]:
        return ("path",)
    return _query_nul(scope.get("query_string", b""))


def has_nul_in_request(scope: Scope) -> bool:
    return nul_location(scope) is not None


class NulGuard:
    """ASGI middleware: a NUL in the path or the query string is a 422 before any route runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            loc = nul_location(scope)
            if loc is not None:
                detail = [{"loc": list(loc), "msg": MESSAGE, "type": "value_error"}]
                await error(422, detail)(scope, receive, send)
                return
        await self.app(scope, receive, send)
