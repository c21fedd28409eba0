"""Which ``hookd listen`` sockets are connected to which relay, in this process.

A listener is a socket's send function and the requests it was sent and has not answered. Each
request goes to one listener of its relay, in turn (round robin). A socket that closes fails
what it still owed (the worker records a failed attempt and retries as for any endpoint).

The hub also carries the local answers to the relay URL's requests: the door waits on the
request's record id (``expect``), and the destination ``settle``\\ s it when the listener's
answer comes, so the provider gets the local server's answer.

State is in memory, one hub per process: a listener is reachable only from the process that
holds its socket (docs/listen.md, "Several processes").
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from hookd.core.relay_frames import (
    RelayedAnswer,
    RelayedRequest,
    RelayFailure,
    encode,
)

log = structlog.get_logger("hookd.relay")

Reply = RelayedAnswer | RelayFailure
SendText = Callable[[str], Awaitable[None]]


class NoListener(Exception):
    """No listener of this relay is connected to this process."""


@dataclass(eq=False)
class Listener:
    relay_id: str
    send_text: SendText
    owed: dict[str, asyncio.Future[Reply]] = field(default_factory=dict)

    def answered(self, reply: Reply) -> None:
        """The listener's answer to one of its requests (an unknown id is ignored: late)."""
        future = self.owed.pop(reply.id, None)
        if future is not None and not future.done():
            future.set_result(reply)


class RelayHub:
    """Relay id -> its connected listeners; relay URL requests waiting for their answer."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[Listener]] = {}
        self._turn = itertools.count()
        self._waiting: dict[str, asyncio.Future[Reply]] = {}
        self._arrivals: list[Callable[[str], None]] = []

    def connect(self, relay_id: str, send_text: SendText) -> Listener:
        listener = Listener(relay_id, send_text)
        self._listeners.setdefault(relay_id, []).append(listener)
        return listener

    def disconnect(self, listener: Listener) -> None:
        """The socket closed: forget it, and fail what it still owed."""
        listeners = self._listeners.get(listener.relay_id, [])
        if listener in listeners:
            listeners.remove(listener)
        if not listeners:
            self._listeners.pop(listener.relay_id, None)
        owed, listener.owed = listener.owed, {}
        for frame_id, future in owed.items():
            if not future.done():
                future.set_result(RelayFailure(frame_id, "the listener disconnected"))

    def connected(self, relay_id: str) -> int:
        """How many listeners of ``relay_id`` this process holds."""
        return len(self._listeners.get(relay_id, ()))

    async def deliver(
        self,
        relay_id: str,
        request: RelayedRequest,
        timeout: float,  # noqa: ASYNC109 - the deadline is the endpoint's, per request
    ) -> Reply:
        """Send ``request`` to one listener of ``relay_id`` and wait for its reply; raise
        NoListener when none is connected, TimeoutError past ``timeout``."""
        listeners = self._listeners.get(relay_id)
        if not listeners:
            raise NoListener(relay_id)
        listener = listeners[next(self._turn) % len(listeners)]
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        listener.owed[request.id] = future
        try:
            await listener.send_text(encode(request))
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            raise
        except Exception as exc:  # the socket broke while sending
            log.debug("relay send failed", relay=relay_id, exc_info=True)
            return RelayFailure(request.id, f"the listener's socket failed: {type(exc).__name__}")
        finally:
            listener.owed.pop(request.id, None)

    def expect(self, record_id: str) -> asyncio.Future[Reply]:
        """A relay URL request waits for its listener's reply (see :meth:`settle`)."""
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting[record_id] = future
        return future

    def forget(self, record_id: str) -> None:
        self._waiting.pop(record_id, None)

    def settle(self, record_id: str, reply: Reply) -> None:
        """The reply to the request recorded as ``record_id``, for the request waiting on it."""
        future = self._waiting.pop(record_id, None)
        if future is not None and not future.done():
            future.set_result(reply)
