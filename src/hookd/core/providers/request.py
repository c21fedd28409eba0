"""The view of one inbound HTTP request that the HTTP layer builds and providers judge."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from hookd.core.providers.payload import json_object

__all__ = ["Headers", "InboundRequest", "header_bytes"]


@dataclass(frozen=True, slots=True, init=False)
class Headers:
    """Immutable, case-insensitive HTTP headers that keep every value of a repeated name."""

    pairs: tuple[tuple[str, str], ...]
    _folded: tuple[tuple[str, str], ...] = field(repr=False, compare=False)

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        kept = tuple((str(name), str(value)) for name, value in pairs)
        object.__setattr__(self, "pairs", kept)
        object.__setattr__(self, "_folded", tuple((n.lower(), v) for n, v in kept))

    @classmethod
    def lowercased(cls, pairs: tuple[tuple[str, str], ...]) -> Headers:
        """Headers whose names are already lower-case text (as ASGI servers pass them)."""
        headers = cls.__new__(cls)
        object.__setattr__(headers, "pairs", pairs)
        object.__setattr__(headers, "_folded", pairs)
        return headers

    def get(self, name: str) -> str | None:
        """The first value of ``name``, or ``None``; providers sign one value per header."""
        wanted = name.lower()
        for folded, value in self._folded:
            if folded == wanted:
                return value
        return None

    def get_all(self, name: str) -> tuple[str, ...]:
        wanted = name.lower()
        return tuple(value for folded, value in self._folded if folded == wanted)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.pairs)

    def __len__(self) -> int:
        return len(self.pairs)


# Not parsed yet (``None`` is a parsed body that is no JSON object).
_UNPARSED: Any = object()


@dataclass(frozen=True, slots=True)
class InboundRequest:
    """A request to ``/in/{source}`` as the provider sent it.

    ``url`` is the full public URL the provider called (scheme, host, optional port, path and
    query), which Twilio signs; ``body`` is the raw bytes, which everyone else signs.
    ``json_body`` is the body parsed once, on first use: a provider reads it for its handshake,
    event type and dedup key.
    """

    method: str
    url: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: Headers
    body: bytes
    remote_ip: str | None = None
    _json_body: Any = field(default=_UNPARSED, init=False, repr=False, compare=False)

    @property
    def json_body(self) -> dict[str, Any] | None:
        """The body as a JSON object, or ``None`` for anything else (callers only read it)."""
        parsed = self._json_body
        if parsed is _UNPARSED:
            parsed = json_object(self.body)
            object.__setattr__(self, "_json_body", parsed)  # a cache: the request is unchanged
        return parsed  # type: ignore[no-any-return]

    def query_value(self, name: str) -> str | None:
        """The first value of query parameter ``name`` (case-sensitive, as providers send it)."""
        for key, value in self.query:
            if key == name:
                return value
        return None


def header_bytes(value: str) -> bytes:
    """The wire bytes of a header value that ASGI servers decoded as Latin-1.

    Characters beyond Latin-1 cannot have come off the wire that way; they are encoded as
    UTF-8 (lone surrogates included) so that garbage still yields bytes instead of an error.
    """
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass")
