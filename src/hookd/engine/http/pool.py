"""Keep-alive connections per origin, with a cap per origin and in all, for the sender.

An origin is a host, port and TLS context. A request takes one of the origin's slots and one of
the pool's (waiting in line when they are all taken), then the most recently used idle
connection, or a new one to an address the SSRF guard checked. Idle connections are closed after
``IDLE_SECONDS``. A request whose reused connection turns out to have been closed by the server
before any byte of a response came back is sent once more on a new connection: the server most
likely closed the idle connection as the request left, and webhooks carry an id for receivers
that see one twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time

import aiohappyeyeballs

from hookd.core.http_wire import HttpTarget
from hookd.engine.http.connection import ClosedBeforeResponse, Connection, Response
from hookd.engine.http.names import GuardedNames

# Idle connections are closed after this long (servers commonly close theirs after 5 to 75 s).
IDLE_SECONDS = 15.0
SWEEP_SECONDS = 5.0
# Happy Eyeballs: the next address is tried when the last has not connected after this long.
HAPPY_EYEBALLS_DELAY = 0.25

OriginKey = tuple[str, int, ssl.SSLContext | None]


class ConnectFailed(OSError):
    """No connection could be opened; ``cause`` is the last address's error."""

    def __init__(self, cause: OSError) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _Origin:
    __slots__ = ("busy", "idle", "slots")

    def __init__(self, per_origin: int) -> None:
        self.slots = asyncio.Semaphore(per_origin)
        self.idle: list[Connection] = []
        self.busy = 0  # requests holding or waiting for a slot


class ConnectionPool:
    """Connections for the sender; :meth:`exchange` sends a request on one of them."""

    def __init__(
        self, names: GuardedNames, *, limit: int, per_origin: int, body_limit: int
    ) -> None:
        self._names = names
        self._per_origin = per_origin
        self._slots = asyncio.Semaphore(limit)
        self._body_limit = body_limit
        self._origins: dict[OriginKey, _Origin] = {}
        self._open: set[Connection] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="hookd-http-idle")

    async def close(self) -> None:
        """Close every connection; requests in flight fail."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        for connection in list(self._open):
            connection.close()
        self._origins.clear()

    async def exchange(
        self,
        destination: HttpTarget,
        tls: ssl.SSLContext | None,
        head: bytes,
        body: bytes,
        *,
        bodiless: bool = False,
    ) -> Response:
        """Send one request and read its response (ConnectFailed, ResponseError, OSError);
        ``bodiless`` for a HEAD request."""
        key = (destination.host, destination.port, tls)
        origin = self._origins.get(key)
        if origin is None:
            origin = self._origins[key] = _Origin(self._per_origin)
        origin.busy += 1
        try:
            async with origin.slots, self._slots:
                connection = self._idle(origin)
                if connection is not None:
                    try:
                        return await self._exchange(origin, connection, head, body, bodiless)
                    except ClosedBeforeResponse:
                        pass  # closed by the server while idle: once more, on a new connection
                connection = await self._connect(destination, tls)
                return await self._exchange(origin, connection, head, body, bodiless)
        finally:
            origin.busy -= 1

    async def _exchange(
        self, origin: _Origin, connection: Connection, head: bytes, body: bytes, bodiless: bool
    ) -> Response:
        try:
            response = await connection.exchange(head, body, bodiless=bodiless)
        except BaseException:
            connection.close()  # abandoned midway (timeout, cancel) or broken
            raise
        if response.reusable:
            connection.idle_since = time.monotonic()
            origin.idle.append(connection)
        else:
            connection.close()
        return response

    def _idle(self, origin: _Origin) -> Connection | None:
        idle = origin.idle
        while idle:
            connection = idle.pop()
            if not connection.closed:
                return connection
        return None

    async def _connect(self, destination: HttpTarget, tls: ssl.SSLContext | None) -> Connection:
        if self._closed:
            raise ConnectFailed(OSError("the sender is closed"))
        # Literal addresses too: the guard's verdict on them is cached like a name's.
        addresses = await self._names.addresses(destination.host, destination.port)
        try:
            sock = await open_socket(addresses, destination.port)
        except OSError as exc:
            raise ConnectFailed(exc) from exc
        try:
            _, connection = await asyncio.get_running_loop().create_connection(
                self._new_connection,
                sock=sock,
                ssl=tls,
                server_hostname=destination.host if tls is not None else None,
            )
        except BaseException as exc:
            sock.close()
            if isinstance(exc, OSError):  # the TLS handshake failed (ssl.SSLError is one)
                raise ConnectFailed(exc) from exc
            raise
        self._open.add(connection)
        return connection

    def _new_connection(self) -> Connection:
        return Connection(self._body_limit, self._open.discard)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            self.sweep(time.monotonic())

    def sweep(self, now: float) -> None:
        """Close connections idle for IDLE_SECONDS; forget origins with nothing left."""
        for key, origin in list(self._origins.items()):
            keep = []
            for connection in origin.idle:
                if connection.closed or now - connection.idle_since >= IDLE_SECONDS:
                    connection.release()
                else:
                    keep.append(connection)
            origin.idle = keep
            if not keep and origin.busy == 0:
                del self._origins[key]


async def open_socket(addresses: list[str], port: int) -> socket.socket:
    """A TCP connection to the first of ``addresses`` to answer (checked addresses only).

    Happy Eyeballs (RFC 8305, via aiohappyeyeballs, as aiohttp does): the next address is tried
    after HAPPY_EYEBALLS_DELAY if the last has not connected yet, alternating IPv6 and IPv4, so
    an address that swallows connection attempts costs a quarter of a second, not the deadline.
    """
    infos = [
        (
            socket.AF_INET6 if ":" in address else socket.AF_INET,
            socket.SOCK_STREAM,
            socket.IPPROTO_TCP,
            "",
            (address, port, 0, 0) if ":" in address else (address, port),
        )
        for address in addresses
    ]
    return await aiohappyeyeballs.start_connection(
        infos, happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY, interleave=1
    )
