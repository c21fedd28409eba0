"""One HTTP/1.1 client connection: an asyncio protocol that writes a request and parses the
response with httptools (llhttp, the parser of Node.js), one exchange at a time.

Bounded by design: at most ``body_limit`` bytes of a response body are kept (the connection is
then not reused, so the rest is never read) and at most ``HEADER_LIMIT`` bytes of headers.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import httptools

# Response headers beyond this many bytes make the response fail (a server sending them without
# end would otherwise be read until the deadline).
HEADER_LIMIT = 64 * 1024


class ResponseError(Exception):
    """The response could not be read: malformed, too large or cut short."""


class ClosedBeforeResponse(ResponseError):
    """The connection closed before any byte of a response arrived."""


class TlsFailed(ResponseError):
    """TLS failed after the connection was made: with TLS 1.3 the client finishes its side of
    the handshake first, so a server that refuses the client's certificate (mutual TLS) says so
    with an alert once the request is on its way. Not retried like a closed idle connection."""


def tls_failure(exc: Exception | None) -> TlsFailed | None:
    """A TlsFailed naming what OpenSSL reported (``tlsv13 alert certificate required``) when a
    connection ended on a TLS error. None for anything else, and for an end without TLS's
    close_notify (SSLEOFError): that is a closed connection, retried as such when it was idle.
    """
    if not isinstance(exc, ssl.SSLError) or isinstance(exc, ssl.SSLEOFError):
        return None
    reason = exc.reason.lower().replace("_", " ") if exc.reason else str(exc)
    if "alert" in reason:  # the server's own word: it refused the handshake
        return TlsFailed(f"TLS handshake failed: {reason}")
    return TlsFailed(f"TLS failed before a response: {reason}")


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes  # at most the connection's body limit
    reusable: bool  # the whole message was read and the server keeps the connection open


class Connection(asyncio.Protocol):
    """A client connection; :meth:`exchange` sends one request and resolves to its response."""

    def __init__(self, body_limit: int, on_lost: Callable[[Connection], None]) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0  # monotonic time it went back to its pool
        self._body_limit = body_limit
        self._on_lost = on_lost
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[Response] | None = None
        self._received = False
        self._bodiless = False  # a HEAD request: the response's framing describes no body
        self._begin()

    def _begin(self) -> None:
        self._headers: list[tuple[str, str]] = []
        self._header_bytes = 0
        self._head_bytes = 0  # received while the headers are incomplete
        self._framed = False  # Content-Length or chunked: the end is known without EOF
        self._headers_done = False
        self._interim = False
        self._body: list[bytes] = []
        self._size = 0

    def exchange(
        self, head: bytes, body: bytes, *, bodiless: bool = False
    ) -> asyncio.Future[Response]:
        """Write a request; the future resolves to the response or fails with ResponseError.

        ``bodiless``: the response has no body whatever its headers say (a HEAD request).
        """
        if self.transport is None or self.closed:
            raise ClosedBeforeResponse("the connection is closed")
        self._waiter = waiter = asyncio.get_running_loop().create_future()
        self._received = False
        self._bodiless = bodiless
        self._begin()
        if body:
            self.transport.writelines((head, body))
        else:
            self.transport.write(head)
        return waiter

    def close(self) -> None:
        """Close now, dropping whatever is buffered (used when an exchange was abandoned)."""
        if self.transport is not None and not self.closed:
            self.closed = True
            self.transport.abort()

    def release(self) -> None:
        """Close politely: an idle connection the pool no longer keeps."""
        if self.transport is not None and not self.closed:
            self.closed = True
            self.transport.close()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:
            self.close()  # bytes nobody asked for: the connection's state is unknown
            return
        self._received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(ResponseError("the server switched protocols"))
        except httptools.HttpParserError as exc:
            self._fail(ResponseError(f"malformed response: {exc}"))
        if not self._headers_done:
            self._head_bytes += len(data)  # a header line that never ends is bounded too
        if self._header_bytes > HEADER_LIMIT or self._head_bytes > HEADER_LIMIT:
            self._fail(ResponseError(f"response headers exceed {HEADER_LIMIT} bytes"))
        elif self._size >= self._body_limit and self._waiter is not None:
            self._finish(reusable=False)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None:
            tls_failed = None if self._received else tls_failure(exc)
            if tls_failed is not None:
                self._fail(tls_failed)
            elif self._headers_done and not self._framed and not self._interim:
                self._finish(reusable=False)  # a body delimited by the connection's end
            elif self._received:
                self._fail(ResponseError("the connection closed in the middle of the response"))
            else:
                self._fail(ClosedBeforeResponse("the connection closed before a response"))
        self._on_lost(self)

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes <= HEADER_LIMIT:
            lowered = name.lower()
            if lowered == b"content-length" or (
                lowered == b"transfer-encoding" and b"chunked" in value.lower()
            ):
                self._framed = True
            self._headers.append((name.decode("latin-1"), value.decode("utf-8", "replace")))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        # 1xx answers (103 Early Hints, 100 Continue) come before the real one.
        self._interim = 100 <= status < 200
        self._headers_done = True
        if self._bodiless and not self._interim:
            # llhttp cannot be told the request was HEAD: finish here, and give the next
            # exchange a fresh parser instead of this one, which waits for the announced body.
            self._finish(reusable=self._parser.should_keep_alive())
            self._parser = httptools.HttpResponseParser(self)

    def on_body(self, body: bytes) -> None:
        room = self._body_limit - self._size
        if room > 0:
            chunk = body if len(body) <= room else body[:room]
            self._body.append(chunk)
            self._size += len(chunk)

    def on_message_complete(self) -> None:
        if self._interim:
            self._begin()
            return
        self._finish(reusable=self._parser.should_keep_alive())

    def _finish(self, *, reusable: bool) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is None or waiter.done():
            return
        status = self._parser.get_status_code()
        body = b"".join(self._body)
        waiter.set_result(Response(status, self._headers, body, reusable and not self.closed))

    def _fail(self, exc: ResponseError) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.close()
