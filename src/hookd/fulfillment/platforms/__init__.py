"""One module per chatbot platform, each exposing a :class:`Platform` of plain callables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hookd.fulfillment.platforms.fields import JsonObject, MalformedRequest
from hookd.fulfillment.reply import Reply

__all__ = ["JsonObject", "MalformedRequest", "Platform", "invalid_request"]

# (status, JSON document) pairs; the app serialises them.
Answer = tuple[int, Any]


def invalid_request(document: JsonObject, detail: str) -> Answer:
    """The default answer to a malformed request: a Svix-style 400."""
    return 400, {"code": "invalid_request", "detail": detail}


@dataclass(frozen=True, slots=True)
class Platform:
    """How one platform's requests are parsed, routed, deduplicated and answered.

    The request type differs per platform, hence ``Any`` in these signatures; each
    module's functions are typed with its own request class.
    """

    name: str
    parse: Callable[[JsonObject], Any]
    route: Callable[[Any], str]
    idempotency_key: Callable[[Any, bytes], str | None]
    render: Callable[[Reply, Any], dict[str, Any]]
    render_unhandled: Callable[[Any], dict[str, Any]]
    malformed: Callable[[JsonObject, str], Answer] = invalid_request
    # When set, a request nobody handles gets this answer instead of the fallback handler.
    unknown_route: Callable[[Any], Answer] | None = None
