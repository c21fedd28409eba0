"""JavaScript transformations: the data that goes in and out of a user's ``handler``, and its rules.

The engine (``hookd.engine.transformations.sandbox``) runs the code; everything here is pure:
building the
``request`` object the handler receives, and validating what it returns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MAX_CODE_LENGTH = 100_000  # characters; Hookdeck's documented limit for a transformation
MAX_URL_LENGTH = 65_536
# RFC 9110 token characters: what a header name may be made of.
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_JSON_TYPES = ("application/json", "+json")

ErrorKind = Literal["code", "syntax", "runtime", "timeout", "memory", "output"]


class TransformError(Exception):
    """A transformation could not be saved or run; ``kind`` is machine-readable."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        self.kind = kind
        self.message = message
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Transformation:
    """User code defining ``function handler(request)``, checked by ``Sandbox.compile``."""

    code: str


def code_problem(code: str) -> str | None:
    """Why ``code`` cannot be a transformation before it is even parsed, or None."""
    if not code.strip():
        return "code is empty"
    if len(code) > MAX_CODE_LENGTH:
        return f"code is longer than {MAX_CODE_LENGTH} characters"
    return None


@dataclass(frozen=True, slots=True)
class TransformInput:
    """The ``request`` object a handler receives (``body`` is parsed JSON when it is JSON)."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: object
    query: Mapping[str, str | list[str]]
    path: str

    @classmethod
    def from_http(
        cls, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> TransformInput:
        """Build the input from a request as received or about to be sent."""
        lowered = {name.lower(): value for name, value in headers.items()}
        parts = urlsplit(url)
        return cls(
            method=method.upper(),
            url=url,
            headers=lowered,
            body=_parse_body(body, lowered.get("content-type", "")),
            query=query_object(parts.query),
            path=parts.path or "/",
        )

    def to_json(self) -> bytes:
        """The JSON text handed to the sandbox."""
        return orjson.dumps(
            {
                "method": self.method,
                "url": self.url,
                "headers": dict(self.headers),
                "body": self.body,
                "query": dict(self.query),
                "path": self.path,
            }
        )


def _parse_body(body: bytes, content_type: str) -> object:
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type.endswith(_JSON_TYPES):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # mislabelled: the handler gets the text, as for any other body
    return body.decode("utf-8", "replace")


def query_object(query: str) -> dict[str, str | list[str]]:
    """A query string as an object; a repeated name gives an array of its values."""
    out: dict[str, str | list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        previous = out.get(name)
        if previous is None:
            out[name] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            out[name] = [previous, value]
    return out


@dataclass(frozen=True, slots=True)
class TransformedRequest:
    """What to send instead. ``body_changed`` is False when the handler left the body alone,
    so the original bytes (and any signature over them) are kept exactly."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: object
    body_changed: bool

    def body_bytes(self, original: bytes) -> bytes:
        """The bytes to send: ``original`` if unchanged, a string as UTF-8, else JSON."""
        if not self.body_changed:
            return original
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return orjson.dumps(self.body)


@dataclass(frozen=True, slots=True)
class Cancelled:
    """The handler asked not to deliver (returned ``null`` or ``{cancel: true}``)."""

    reason: str


TransformOutcome = TransformedRequest | Cancelled


def parse_outcome(
    returned: object, original: TransformInput, *, body_unchanged: bool
) -> TransformOutcome:
    """Validate what a handler returned; ``TransformError("output", ...)`` says what is wrong.

    Fields the handler left out keep their original values; ``path`` and ``query`` edits are
    applied to the URL, so ``request.path = "/v2" + request.path`` does what it reads as.
    """
    if returned is None:
        return Cancelled("handler returned null")
    if not isinstance(returned, Mapping):
        raise _output(f"handler must return the request object or null, got {_kind(returned)}")
    if returned.get("cancel") is True:
        return Cancelled("handler returned cancel: true")
    method = _method(returned.get("method", original.method))
    url = _url(returned, original)
    headers = _headers(returned.get("headers", original.headers))
    if "body" not in returned or body_unchanged:
        # Keep our own parse: JavaScript numbers are doubles and would round big integers.
        return TransformedRequest(method, url, headers, original.body, body_changed=False)
    return TransformedRequest(method, url, headers, returned["body"], body_changed=True)


def _output(message: str) -> TransformError:
    return TransformError("output", message)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _method(value: object) -> str:
    if not isinstance(value, str) or value.upper() not in METHODS:
        raise _output(f"method must be one of {', '.join(METHODS)}, got {value!r}")
    return value.upper()


def _url(returned: Mapping[str, object], original: TransformInput) -> str:
    url = returned.get("url", original.url)
    if not isinstance(url, str):
        raise _output(f"url must be a string, got {_kind(url)}")
    path = returned.get("path", original.path)
    query = returned.get("query", original.query)
    if path != original.path or query != original.query:
        url = _with_path_and_query(url, path, query)
    if url == original.url:
        return url  # the endpoint's own URL, which may also be a broker destination
    if len(url) > MAX_URL_LENGTH or any(ch.isspace() for ch in url):
        raise _output("url must be at most 64 KiB long and contain no whitespace")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a malformed port
    except ValueError as exc:
        raise _output(f"url is malformed: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _output(f"url must be an absolute http(s) URL, got {url!r}")
    return url


def _with_path_and_query(url: str, path: object, query: object) -> str:
    if not isinstance(path, str) or not path.startswith("/"):
        raise _output(f"path must be a string starting with '/', got {path!r}")
    if not isinstance(query, Mapping):
        raise _output(f"query must be an object, got {_kind(query)}")
    pairs: list[tuple[str, str]] = []
    for name, value in query.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if not isinstance(item, str | int | float) or isinstance(item, bool):
                raise _output(f"query value for {name!r} must be a string or a number")
            pairs.append((name, str(item)))
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(pairs), parts.fragment))


def _headers(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise _output(f"headers must be an object of strings, got {_kind(value)}")
    headers: dict[str, str] = {}
    for name, item in value.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise _output(f"header name {name!r} is not a valid HTTP token")
        if not isinstance(item, str):
            raise _output(f"header {name!r} must be a string, got {_kind(item)}")
        if any(ch in item for ch in "\r\n\0"):
            # A newline would let a transformation inject headers of its own.
            raise _output(f"header {name!r} contains a line break or NUL")
        headers[name] = item
    return headers


class Sandbox(Protocol):
    """Where transformations run (``engine.transformations.sandbox.TransformSandbox``, one per
    process, owned
    by the runtime): services check code with it, the worker applies it."""

    async def compile(
        self, code: str, *, timeout_ms: int, max_memory: int, app: str = ""
    ) -> Transformation:
        """Check ``code`` parses, runs and defines ``handler``; ``TransformError`` if not."""
        ...

    async def apply(
        self,
        transformation: Transformation,
        request: TransformInput,
        *,
        timeout_ms: int,
        max_memory: int,
        app: str = "",
        endpoint: str = "",
    ) -> TransformOutcome:
        """Run the handler on ``request``: the request to send instead, or ``Cancelled``."""
        ...
