"""Peers for the HTTP sender's tests: raw asyncio servers that write exact bytes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization

from hookd.core.delivery import AttemptResult
from hookd.core.ssrf import parse_networks
from hookd.engine.http.sender import HttpSender

ALLOW = parse_networks(["127.0.0.0/8", "::1/128"])
UA = "hookd-test/1.0"
PEM = serialization.Encoding.PEM
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


@dataclass
class RawRequest:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes


async def read_request(reader: asyncio.StreamReader) -> RawRequest | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    # Split on bare LF too, so that a smuggled "\n" shows up as a header of its own.
    line, *fields = [part.rstrip("\r") for part in head.decode("latin-1").split("\n")][:-2]
    method, target, _ = line.split(" ", 2)
    headers = [
        (name.strip(), value.strip()) for name, _, value in (f.partition(":") for f in fields)
    ]
    length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
    return RawRequest(method, target, headers, await reader.readexactly(length))


Reply = bytes | None | Callable[[RawRequest], Awaitable[bytes | None]]


class RawServer:
    """HTTP/1.1 by hand on 127.0.0.1: writes ``reply`` per request (None: never answers), then
    keeps the connection (``after="keep"``), closes it (``"close"``) or goes silent (``"hang"``).
    Counts accepted and concurrently open connections, and requests being answered at once."""

    def __init__(self, reply: Reply, after: str) -> None:
        self.reply, self.after = reply, after
        self.requests: list[RawRequest] = []
        self.accepted = self.open = self.max_open = self.active = self.max_active = 0
        self.received = asyncio.Event()
        self._stopping = asyncio.Event()
        self._connections: list[tuple[asyncio.Task[Any] | None, asyncio.StreamWriter]] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, limit=1 << 20)
        self.port = self._server.sockets[0].getsockname()[1]

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.append((asyncio.current_task(), writer))
        self.accepted += 1
        self.open += 1
        self.max_open = max(self.max_open, self.open)
        try:
            while (request := await read_request(reader)) is not None:
                self.requests.append(request)
                self.received.set()
                self.active += 1
                self.max_active = max(self.max_active, self.active)
                reply = await self.reply(request) if callable(self.reply) else self.reply
                self.active -= 1
                if reply is not None:
                    writer.write(reply)
                    await writer.drain()
                if reply is None or self.after == "hang":
                    await self._stopping.wait()
                if reply is None or self.after != "keep":
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.open -= 1
            writer.close()

    async def stop(self) -> None:
        self._server.close()
        self._stopping.set()
        for _, writer in self._connections:
            writer.transport.abort()
        await asyncio.gather(*(task for task, _ in self._connections if task is not None))
        await self._server.wait_closed()


StartRaw = Callable[..., Awaitable[RawServer]]
StartApp = Callable[..., Awaitable[int]]


async def post(http: HttpSender, url: str, timeout: float = 5.0, **tls: Any) -> AttemptResult:
    return await http.send("POST", url, {}, b"{}", timeout, **tls)


def lower(result: AttemptResult) -> list[tuple[str, str]]:
    return [(name.lower(), value) for name, value in result.headers]
