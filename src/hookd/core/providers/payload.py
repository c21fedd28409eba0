"""Lenient, total readers of request bodies: they return ``None`` instead of raising."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import parse_qsl

import orjson

__all__ = ["body_digest_key", "dig", "form_pairs", "json_object", "text_at"]


def json_object(body: bytes) -> dict[str, Any] | None:
    """The body parsed as a JSON object, or ``None`` for anything else (callers only read it).

    A request's body is parsed once, by ``InboundRequest.json_body``, which providers read."""
    try:
        parsed = orjson.loads(body)
    except (orjson.JSONDecodeError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def dig(value: Any, *path: str | int) -> Any:
    """Follow object keys and list indexes; ``None`` as soon as a step does not exist."""
    for step in path:
        if isinstance(step, int) and isinstance(value, list) and -len(value) <= step < len(value):
            value = value[step]
        elif isinstance(step, str) and isinstance(value, dict):
            value = value.get(step)
        else:
            return None
    return value


def text_at(value: Any, *path: str | int) -> str | None:
    """A non-empty string or integer found at ``path``, as text; ``None`` otherwise."""
    found = dig(value, *path)
    if isinstance(found, bool):
        return None
    if isinstance(found, int):
        return str(found)
    if isinstance(found, str) and found:
        return found
    return None


def form_pairs(body: bytes) -> list[tuple[str, str]] | None:
    """An ``application/x-www-form-urlencoded`` body as pairs, or ``None`` if it is not text."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        return parse_qsl(text, keep_blank_values=True)
    except ValueError:
        return None


def body_digest_key(body: bytes) -> str | None:
    """A dedup key for providers that send no event id: a redelivery repeats the exact bytes."""
    if not body:
        return None
    return "sha256:" + hashlib.sha256(body).hexdigest()
