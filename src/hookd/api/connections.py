"""The HTTP connections uvicorn serves: deadlines for a request's head and body, a cap on the
connections one client address holds, health probes answered before the app.

uvicorn has a keep-alive timeout and nothing else: a client that sends half a request head, or a
body that stops, holds its connection (a file descriptor and, past the head, an ASGI task) for
as long as it likes. ``GuardedHttp`` is uvicorn's httptools protocol with one timer per
connection on top:

- the head: from the connection's start (or, on a kept-alive connection, from the next
  request's first byte) to the end of its head, at most ``header_timeout`` seconds; then a 408
  (silence if nothing was sent) and the connection is closed;
- the body: at most ``body_timeout`` seconds without a byte of it; then a 408 and the
  connection is closed. The clock stops while hookd is the one not reading (uvicorn paused
  reading because the application has not taken what came, or the client waits for its
  ``100 Continue``). The application waiting for the body (the ingest door, a FastAPI route)
  gets ``http.disconnect``, as for a client that went away.

A client address holds at most ``per_address`` connections at once; one more is answered 429
and closed at once. Trusted proxies are exempt: every client behind one shares its address.

Health probes (GET and HEAD on ``api/health/routes``' paths) are answered here, as soon as
their head is parsed, from ``Readiness``'s state: no ASGI task, so under load a probe waits for
no more turns of the event loop than it takes to read it (a kubelet's default timeout is 1 s).
Their answers carry ``X-Request-Id`` as every answer does (``api.request_log``); they are not
logged.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
import structlog
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)
from uvicorn.server import ServerState

from hookd.api.health.routes import Readiness
from hookd.api.request_log import request_id_of
from hookd.core.ssrf import Network

log = structlog.get_logger("hookd.api")

# How often each kind of dropped connection is logged at most (with the count since the last).
LOG_EVERY_SECONDS = 10.0


def _answer(status: str, code: str, detail: str, extra: bytes = b"") -> bytes:
    body = orjson.dumps({"code": code, "detail": detail})
    return (
        b"HTTP/1.1 " + status.encode() + b"\r\n"
        b"content-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n"
        b"connection: close\r\n" + extra + b"\r\n" + body
    )


HEAD_TIMEOUT = _answer(
    "408 Request Timeout", "request_timeout", "the request head did not arrive in time"
)
BODY_TIMEOUT = _answer(
    "408 Request Timeout", "request_timeout", "the request body stopped arriving"
)
TOO_MANY = _answer(
    "429 Too Many Requests",
    "too_many_connections",
    "this address holds too many connections to hookd",
    b"retry-after: 1\r\n",
)


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """What one connection may take (``HOOKD_HEADER_TIMEOUT``, ``HOOKD_BODY_TIMEOUT``,
    ``HOOKD_MAX_CONNECTIONS_PER_ADDRESS``; ``HOOKD_TRUSTED_PROXIES`` are not capped)."""

    header_timeout: float
    body_timeout: float
    per_address: int  # 0: no cap
    trusted: tuple[Network, ...] = ()

    def capped(self, address: str) -> bool:
        """Whether connections from ``address`` count against the cap."""
        if not self.per_address:
            return False
        if not self.trusted:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return True
        return not any(ip.version == net.version and ip in net for net in self.trusted)


class _Dropped:
    """Counts dropped connections of one kind and logs them at most every 10 s."""

    def __init__(self, event: str) -> None:
        self.event = event
        self.count = 0
        self.logged_at = 0.0

    def add(self, client: tuple[str, int] | None) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self.logged_at >= LOG_EVERY_SECONDS:
            address = client[0] if client else None
            log.warning(self.event, connections=self.count, last_client=address)
            self.count, self.logged_at = 0, now


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol with head and body deadlines and a cap per address.

    ``guarded_http(limits)`` makes the subclass uvicorn is given (``Config(http=...)``): uvicorn
    builds each connection's protocol with its own arguments only, so the limits and the count
    of connections per address live on the class.
    """

    limits: ClassVar[ConnectionLimits]
    readiness: ClassVar[Readiness | None]
    open_by_address: ClassVar[dict[str, int]]
    late_heads: ClassVar[_Dropped]
    stalled_bodies: ClassVar[_Dropped]
    refused: ClassVar[_Dropped]

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._deadline: asyncio.TimerHandle | None = None
        self._in_head = False  # bytes of a head arrived, its end has not
        self._body_at = 0.0  # loop time of the body's last byte (or of the head's end)
        self._counted: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        address = self.client[0] if self.client else None
        if address is not None and self.limits.capped(address):
            held = self.open_by_address.get(address, 0)
            if held >= self.limits.per_address:
                self.refused.add(self.client)
                transport.write(TOO_MANY)
                transport.close()
                return
            self.open_by_address[address] = held + 1
            self._counted = address
        self._deadline = self.loop.call_later(self.limits.header_timeout, self._head_late)

    def connection_lost(self, exc: Exception | None) -> None:
        self._let_go()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        self._let_go()  # the connection is the WebSocket protocol's from here (hookd has none)
        super().handle_websocket_upgrade()

    def _let_go(self) -> None:
        """Stop the timer and take the connection off its address's count."""
        self._stop_timer()
        if self._counted is not None:
            held = self.open_by_address.get(self._counted, 1) - 1
            if held > 0:
                self.open_by_address[self._counted] = held
            else:
                self.open_by_address.pop(self._counted, None)
            self._counted = None

    # --- parser callbacks ------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        if self._deadline is None:  # a kept-alive connection's next request: its own deadline
            self._deadline = self.loop.call_later(self.limits.header_timeout, self._head_late)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._stop_timer()
        # Armed before the answer: a probe's body (nobody reads it) must keep arriving too.
        self._body_at = self.loop.time()
        self._deadline = self.loop.call_later(self.limits.body_timeout, self._body_late)
        if self.readiness is not None and self._answer_probe(self.readiness):
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._body_at = self.loop.time()
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._stop_timer()
        super().on_message_complete()

    def _answer_probe(self, readiness: Readiness) -> bool:
        """Answer a health probe now; False for anything else (and behind a pipelined request,
        whose answer must come first)."""
        method = self.parser.get_method()
        if method not in (b"GET", b"HEAD") or self.pipeline:
            return False
        if self.cycle is not None and not self.cycle.response_complete:
            return False
        answer = readiness.answer(self.url.partition(b"?")[0].decode("latin-1"))
        if answer is None:
            return False
        keep_alive = self.parser.get_http_version() != "1.0" and self.parser.should_keep_alive()
        self.scope["method"] = method.decode("ascii")
        # An answered cycle, so the parser's callbacks for the rest of this request (a body
        # nobody reads) find it complete, as after any answer.
        cycle = RequestResponseCycle(
            scope=self.scope,
            transport=self.transport,
            flow=self.flow,
            logger=self.logger,
            access_logger=self.access_logger,
            access_log=False,
            default_headers=self.server_state.default_headers,
            message_event=asyncio.Event(),
            expect_100_continue=False,
            keep_alive=keep_alive,
            on_response=self.on_response_complete,
        )
        cycle.response_started = cycle.response_complete = True
        self.cycle = cycle
        status, body = answer
        head, rest = _probe_answer(status, body, method == b"HEAD", keep_alive)
        request_id = request_id_of(self.headers).encode("ascii")
        self.transport.write(head + b"x-request-id: " + request_id + b"\r\n" + rest)
        if keep_alive:
            self.on_response_complete()  # the keep-alive timer, as after any answer
        else:
            self.transport.close()
        return True

    # --- deadlines -------------------------------------------------------------------------

    def _stop_timer(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _head_late(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self._in_head:  # silence for a connection that never sent a byte (a preconnect)
            self.late_heads.add(self.client)
            self.transport.write(HEAD_TIMEOUT)
        self.transport.close()

    def _body_late(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        now = self.loop.time()
        if self.flow.read_paused or (cycle is not None and cycle.waiting_for_100_continue):
            self._body_at = now  # hookd is the one not reading: no clock for the client
        quiet = now - self._body_at
        if quiet < self.limits.body_timeout:
            self._deadline = self.loop.call_later(self.limits.body_timeout - quiet, self._body_late)
            return
        self.stalled_bodies.add(self.client)
        if cycle is None or not cycle.response_started:
            self.transport.write(BODY_TIMEOUT)
        self.transport.close()


_PROBE_ANSWERS: dict[tuple[int, bytes, bool, bool], tuple[bytes, bytes]] = {}


def _probe_answer(status: int, body: bytes, head: bool, keep_alive: bool) -> tuple[bytes, bytes]:
    """A health answer's bytes (a handful of them: built once each), in two parts: the status
    line and headers, and the blank line and body; the request id's header goes between."""
    key = (status, body, head, keep_alive)
    answer = _PROBE_ANSWERS.get(key)
    if answer is None:
        answer = (
            STATUS_LINE[status] + b"content-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n"
            b"cache-control: no-store\r\n" + (b"" if keep_alive else b"connection: close\r\n"),
            b"\r\n" + (b"" if head else body),
        )
        _PROBE_ANSWERS[key] = answer
    return answer


def guarded_http(limits: ConnectionLimits, readiness: Readiness | None = None) -> type[GuardedHttp]:
    """The protocol class for one server (its own limits and count per address); with
    ``readiness`` it answers health probes itself."""
    return type(
        "GuardedHttp",
        (GuardedHttp,),
        {
            "limits": limits,
            "readiness": readiness,
            "open_by_address": {},
            "late_heads": _Dropped("connections closed: request head too slow"),
            "stalled_bodies": _Dropped("connections closed: request body stalled"),
            "refused": _Dropped("connections refused: too many from one address"),
        },
    )
