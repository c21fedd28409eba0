"""The relay hub (engine.relay.hub): each request to one listener in turn, a listener's reply
returned to the request's sender, and a closed socket failing what it still owed."""

from __future__ import annotations

import asyncio

import pytest

from hookd.core.relay_frames import (
    RelayedAnswer,
    RelayedRequest,
    RelayFailure,
    decode,
)
from hookd.engine.relay import NoListener, RelayHub


def _request(frame_id: str) -> RelayedRequest:
    return RelayedRequest(frame_id, "POST", "", "", (), b"{}")


class Socket:
    """A listener's socket: what the hub sent, as frames."""

    def __init__(self) -> None:
        self.sent: list[RelayedRequest] = []
        self.arrived = asyncio.Event()

    async def send_text(self, text: str) -> None:
        frame = decode(text)
        assert isinstance(frame, RelayedRequest)
        self.sent.append(frame)
        self.arrived.set()


async def test_no_listener() -> None:
    with pytest.raises(NoListener):
        await RelayHub().deliver("src_a", _request("1"), timeout=5)


async def test_requests_go_to_each_listener_in_turn_and_replies_come_back() -> None:
    hub = RelayHub()
    sockets = [Socket(), Socket()]
    listeners = [hub.connect("src_a", socket.send_text) for socket in sockets]
    assert hub.connected("src_a") == 2
    first = asyncio.create_task(hub.deliver("src_a", _request("1"), timeout=5))
    second = asyncio.create_task(hub.deliver("src_a", _request("2"), timeout=5))
    await sockets[0].arrived.wait()
    await sockets[1].arrived.wait()
    assert [len(socket.sent) for socket in sockets] == [1, 1]
    for socket, listener in zip(sockets, listeners, strict=True):
        frame = socket.sent[0]
        listener.answered(RelayedAnswer(frame.id, 201, (), frame.id.encode(), 3))
    answers = [await first, await second]
    assert [(a.status, a.body) for a in answers if isinstance(a, RelayedAnswer)] == [
        (201, b"1"),
        (201, b"2"),
    ]


async def test_a_closed_socket_fails_what_it_owed_and_a_waiting_request_is_settled() -> None:
    hub = RelayHub()
    socket = Socket()
    listener = hub.connect("src_a", socket.send_text)
    waiting = hub.expect("req_1")
    owed = asyncio.create_task(hub.deliver("src_a", _request("1"), timeout=5))
    await socket.arrived.wait()
    hub.disconnect(listener)
    reply = await owed
    assert isinstance(reply, RelayFailure) and "disconnected" in reply.detail
    assert hub.connected("src_a") == 0
    hub.settle("req_1", reply)
    assert await waiting == reply
