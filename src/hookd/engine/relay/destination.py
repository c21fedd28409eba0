"""``relay://{relay id}`` endpoints: a delivery replayed by a connected ``hookd listen``.

For a message that was an inbound request (the relay's own URL, or a source the relay is
attached to), the listener gets that request as it came: method, the path under the source's
URL, query, every header and the exact body, so the provider's signature verifies locally. A
message sent to an application goes as a delivery would: POST, hookd's signed headers. The
local answer is the attempt (status, body, the listener's measured duration); no listener, a
listener that could not reach its local URL, or no reply in time is a failed attempt, retried
on the endpoint's schedule.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from hookd.core.delivery import AttemptResult, Failure
from hookd.core.destinations import DestinationTarget
from hookd.core.domain import InboundRecord
from hookd.core.relay_frames import RelayedAnswer, RelayedRequest
from hookd.engine import durations
from hookd.engine.destinations.client import webhook_id
from hookd.engine.relay.hub import NoListener, RelayHub
from hookd.services.context import Context
from hookd.services.relays.originals import original_request, path_suffix

# Headers that describe the hop to hookd; the listener's client frames its own request.
HOP_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "proxy-connection",
        "proxy-authorization",
    }
)


def _replayed(record: InboundRecord, frame_id: str, msg_id: str) -> RelayedRequest:
    headers = tuple((n, v) for n, v in record.headers if n.lower() not in HOP_HEADERS)
    return RelayedRequest(
        id=frame_id,
        method=record.method,
        path=path_suffix(record),
        query=record.query,
        headers=headers,
        body=record.body,
        event_type=record.event_type,
        msg_id=msg_id,
    )


class RelayDestination:
    """The ``relay`` kind of :class:`~hookd.engine.destinations.client.BrokerClient`."""

    def __init__(self, hub: RelayHub, ctx: Context) -> None:
        self.hub = hub
        self.ctx = ctx

    async def start(self) -> None:
        """Nothing to open: the listeners connect to the API."""

    async def close(self) -> None:
        """Nothing to close: the sockets belong to the API."""

    async def send(
        self,
        target: DestinationTarget,
        headers: Mapping[str, str],
        body: bytes,
        timeout: float,  # noqa: ASYNC109 - the deadline is the endpoint's
    ) -> AttemptResult:
        started = durations.mark()
        relay_id = target.resource
        if not self.hub.connected(relay_id):
            return AttemptResult.no_response(
                f"no listener is connected to relay {relay_id} (hookd listen)",
                failure=Failure.CONNECTION,
            )
        msg_id = webhook_id(headers)
        record = None if msg_id is None else await original_request(self.ctx, msg_id)
        frame_id = uuid.uuid4().hex
        if record is not None and msg_id is not None:
            request = _replayed(record, frame_id, msg_id)
        else:
            request = RelayedRequest(
                id=frame_id,
                method="POST",
                path="",
                query="",
                headers=tuple(headers.items()),
                body=body,
                event_type=None,
                msg_id=msg_id,
            )
        try:
            reply = await self.hub.deliver(relay_id, request, timeout)
        except NoListener:
            return AttemptResult.no_response(
                f"no listener is connected to relay {relay_id} (hookd listen)",
                durations.elapsed_ms(started),
                failure=Failure.CONNECTION,
            )
        except TimeoutError:
            reason = f"the listener did not answer within {timeout:g} s"
            return AttemptResult.no_response(
                reason, durations.elapsed_ms(started), failure=Failure.TIMEOUT, timed_out=True
            )
        if record is not None:
            self.hub.settle(record.id, reply)
        if isinstance(reply, RelayedAnswer):
            return AttemptResult(reply.status, reply.body, reply.duration_ms, headers=reply.headers)
        return AttemptResult.no_response(
            f"the listener got no answer from its local URL: {reply.detail}",
            durations.elapsed_ms(started),
            failure=Failure.CONNECTION,
        )
