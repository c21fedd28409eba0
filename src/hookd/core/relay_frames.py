"""The frames of ``hookd listen``'s WebSocket (docs/listen.md), shared by server and CLI.

One JSON object per text frame, with a ``type``:

- ``ready`` (server): the relay the socket listens on: ``relay`` (id), ``url`` (its public URL).
- ``request`` (server): one request to replay locally: ``id`` (the frame's, echoed in the
  answer), ``method``, ``path`` (under the local URL), ``query`` (raw), ``headers`` (pairs, as
  received), ``body`` (base64, the exact bytes), ``eventType``, ``msgId``.
- ``answer`` (listener): the local server's answer: ``id``, ``status``, ``headers``, ``body``
  (base64), ``durationMs``.
- ``failure`` (listener): no answer from the local server: ``id``, ``detail``.

Pure: encoding and decoding only; :class:`FrameError` names what is wrong with a frame.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

SUBPROTOCOL = "hookd-relay.1"
MAX_DETAIL = 1000

Pairs = tuple[tuple[str, str], ...]


class FrameError(ValueError):
    """A frame that is not one of the protocol's."""


@dataclass(frozen=True, slots=True)
class Ready:
    relay: str
    url: str


@dataclass(frozen=True, slots=True)
class RelayedRequest:
    id: str
    method: str
    path: str
    query: str
    headers: Pairs
    body: bytes
    event_type: str | None = None
    msg_id: str | None = None


@dataclass(frozen=True, slots=True)
class RelayedAnswer:
    id: str
    status: int
    headers: Pairs
    body: bytes
    duration_ms: int


@dataclass(frozen=True, slots=True)
class RelayFailure:
    id: str
    detail: str


Frame = Ready | RelayedRequest | RelayedAnswer | RelayFailure


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def encode(frame: Frame) -> str:
    """The frame as the text of one WebSocket message."""
    fields: dict[str, Any]
    if isinstance(frame, Ready):
        fields = {"type": "ready", "relay": frame.relay, "url": frame.url}
    elif isinstance(frame, RelayedRequest):
        fields = {
            "type": "request",
            "id": frame.id,
            "method": frame.method,
            "path": frame.path,
            "query": frame.query,
            "headers": [list(pair) for pair in frame.headers],
            "body": _b64(frame.body),
            "eventType": frame.event_type,
            "msgId": frame.msg_id,
        }
    elif isinstance(frame, RelayedAnswer):
        fields = {
            "type": "answer",
            "id": frame.id,
            "status": frame.status,
            "headers": [list(pair) for pair in frame.headers],
            "body": _b64(frame.body),
            "durationMs": frame.duration_ms,
        }
    else:
        fields = {"type": "failure", "id": frame.id, "detail": frame.detail[:MAX_DETAIL]}
    return json.dumps(fields, separators=(",", ":"))


def _text(fields: dict[str, Any], name: str, *, optional: bool = False) -> Any:
    value = fields.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise FrameError(f"{name!r} must be a string")
    return value


def _pairs(fields: dict[str, Any]) -> Pairs:
    raw = fields.get("headers")
    if not isinstance(raw, list):
        raise FrameError("'headers' must be a list of [name, value] pairs")
    pairs: list[tuple[str, str]] = []
    for pair in raw:
        if not (
            isinstance(pair, list)
            and len(pair) == 2
            and isinstance(pair[0], str)
            and isinstance(pair[1], str)
        ):
            raise FrameError("'headers' must be a list of [name, value] pairs")
        pairs.append((pair[0], pair[1]))
    return tuple(pairs)


def _body(fields: dict[str, Any]) -> bytes:
    try:
        return base64.b64decode(_text(fields, "body"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FrameError("'body' must be base64") from exc


def _integer(fields: dict[str, Any], name: str, low: int, high: int) -> int:
    value = fields.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FrameError(f"{name!r} must be an integer from {low} to {high}")
    return value


def decode(text: str | bytes) -> Frame:
    """The frame in one WebSocket message; :class:`FrameError` for anything else."""
    try:
        fields = json.loads(text)
    except ValueError as exc:
        raise FrameError("a frame is one JSON object") from exc
    if not isinstance(fields, dict):
        raise FrameError("a frame is one JSON object")
    kind = fields.get("type")
    if kind == "ready":
        return Ready(_text(fields, "relay"), _text(fields, "url"))
    if kind == "request":
        return RelayedRequest(
            id=_text(fields, "id"),
            method=_text(fields, "method"),
            path=_text(fields, "path"),
            query=_text(fields, "query"),
            headers=_pairs(fields),
            body=_body(fields),
            event_type=_text(fields, "eventType", optional=True),
            msg_id=_text(fields, "msgId", optional=True),
        )
    if kind == "answer":
        return RelayedAnswer(
            id=_text(fields, "id"),
            status=_integer(fields, "status", 100, 599),
            headers=_pairs(fields),
            body=_body(fields),
            duration_ms=_integer(fields, "durationMs", 0, 2**31 - 1),
        )
    if kind == "failure":
        return RelayFailure(_text(fields, "id"), _text(fields, "detail")[:MAX_DETAIL])
    raise FrameError(f"unknown frame type {kind!r}")
