"""The raw ASGI seam: read a bounded request body, send a JSON answer.

Written against the ASGI spec directly so the SDK needs no web framework, yet mounts in
any (FastAPI, Starlette, Quart...) and runs under any ASGI server.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = [
    "BodyRejected",
    "ClientGone",
    "Receive",
    "Scope",
    "Send",
    "decode_body",
    "read_body",
    "request_headers",
    "route_path",
    "send_answer",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# zlib's "detect a zlib or gzip header" window size.
AUTO_HEADER_WBITS = zlib.MAX_WBITS | 32


class BodyRejected(Exception):
    """The body cannot be accepted; carries the 4xx status and a machine-readable code."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


class ClientGone(Exception):
    """The client disconnected before sending the whole body."""


def request_headers(scope: Scope) -> dict[str, str]:
    """Headers with lower-case names; a repeated header keeps its last value."""
    return {
        name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
    }


def route_path(scope: Scope) -> str:
    """The path below the mount point, without a trailing slash."""
    path: str = scope.get("path", "/")
    root: str = scope.get("root_path", "")
    # Starlette's Mount leaves the full path in scope["path"]; other routers strip it.
    if root and path.startswith(root):
        path = path[len(root) :]
    return path.rstrip("/") or "/"


def _too_large(limit: int) -> BodyRejected:
    return BodyRejected(413, "payload_too_large", f"the request body exceeds {limit} bytes")


async def read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    """The whole request body, refusing more than ``limit`` bytes without buffering them."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def decode_body(body: bytes, headers: dict[str, str], limit: int) -> bytes:
    """Undo ``Content-Encoding`` (Rasa may deflate its calls), bounded by ``limit``."""
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("deflate", "gzip"):
        raise BodyRejected(
            415, "unsupported_encoding", f"content-encoding {encoding} is not supported"
        )
    inflater = zlib.decompressobj(AUTO_HEADER_WBITS)
    try:
        # max_length bounds the output, so a small "zip bomb" cannot exhaust memory.
        decoded = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise BodyRejected(400, "invalid_body", f"the body is not valid {encoding} data") from exc
    if len(decoded) > limit or inflater.unconsumed_tail:
        raise _too_large(limit)
    return decoded


async def send_answer(
    send: Send, status: int, body: bytes, extra_headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send a complete JSON response."""
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *(extra_headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
