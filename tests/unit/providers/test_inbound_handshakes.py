"""Discord (Ed25519, two kinds of PING) and Microsoft Graph (validationToken, clientState)."""

from __future__ import annotations

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hookd.core.providers import ConfigError, describe_request, handshake_reply
from tests.unit.providers.inbound_builders import NOW, TS, check, inbound, later, rotation, source

PRIVATE = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC_HEX = PRIVATE.public_key().public_bytes_raw().hex()


def discord_headers(body: bytes, key: Ed25519PrivateKey = PRIVATE, ts: int = TS) -> dict[str, str]:
    signature = key.sign(str(ts).encode() + body).hex()
    return {"X-Signature-Ed25519": signature, "X-Signature-Timestamp": str(ts)}


def test_discord_interaction_ping_and_verification() -> None:
    src = source("discord", publicKey=PUBLIC_HEX)
    ping = orjson.dumps({"type": 1, "id": "1", "application_id": "2", "token": "t", "version": 1})
    assert check(src, inbound(ping, discord_headers(ping))).ok
    reply = handshake_reply(src, inbound(ping, discord_headers(ping)), NOW)
    assert reply is not None
    assert (reply.status, reply.content_type, orjson.loads(reply.body)) == (
        200,
        "application/json",
        {"type": 1},
    )
    other = Ed25519PrivateKey.generate()
    forged = inbound(ping, discord_headers(ping, other))
    assert handshake_reply(src, forged, NOW) is None
    assert check(src, forged).code == "signature_mismatch"
    assert not check(src, inbound(ping + b" ", discord_headers(ping))).ok
    assert not check(src, inbound(ping, discord_headers(ping)), later(301)).ok


def test_discord_webhook_events() -> None:
    src = source("discord", publicKey=PUBLIC_HEX)
    ping = orjson.dumps({"version": 1, "application_id": "2", "type": 0})
    reply = handshake_reply(src, inbound(ping, discord_headers(ping)), NOW)
    assert reply is not None
    assert (reply.status, reply.body) == (204, b"")
    event = orjson.dumps(
        {"version": 1, "type": 1, "event": {"type": "APPLICATION_AUTHORIZED", "timestamp": "x"}}
    )
    assert handshake_reply(src, inbound(event, discord_headers(event)), NOW) is None
    description = describe_request(src, inbound(event))
    assert description.event_type == "discord.APPLICATION_AUTHORIZED"
    assert description.dedup_key is not None
    command = orjson.dumps({"type": 2, "id": "int_9", "token": "t"})
    assert describe_request(src, inbound(command)).event_type == "discord.application_command"
    assert describe_request(src, inbound(command)).dedup_key == "int_9"


def test_discord_key_rotation_and_bad_key() -> None:
    old = Ed25519PrivateKey.generate()
    old_hex = old.public_key().public_bytes_raw().hex()
    body = b'{"type":2}'
    src = source(
        "discord", publicKey=PUBLIC_HEX, **rotation(old_hex, expires_in=10, field="publicKey")
    )
    assert check(src, inbound(body, discord_headers(body, old))).ok
    assert not check(src, inbound(body, discord_headers(body, old)), later(11)).ok
    with pytest.raises(ConfigError) as error:
        source("discord", publicKey="abc")
    assert error.value.field == "publicKey"


GRAPH_STATE = "secretClientValue"


def graph_body(*states: str, change: str = "created") -> bytes:
    return orjson.dumps(
        {"value": [{"subscriptionId": "s", "changeType": change, "clientState": s} for s in states]}
    )


def test_graph_validation_token_is_echoed_safely() -> None:
    src = source("microsoft-graph", secret=GRAPH_STATE)
    url = "https://h.example/in/s?validationToken=Validation%3A+Testing+client+application"
    reply = handshake_reply(src, inbound(url=url), NOW)
    assert reply is not None
    assert (reply.status, reply.body) == (200, b"Validation: Testing client application")
    assert ("X-Content-Type-Options", "nosniff") in reply.headers
    hostile = handshake_reply(
        src, inbound(url="https://h.example/in/s?validationToken=%3Cb%3E"), NOW
    )
    assert hostile is not None
    assert hostile.status == 400
    assert handshake_reply(src, inbound(graph_body(GRAPH_STATE)), NOW) is None


def test_graph_client_state_checked_on_every_notification() -> None:
    src = source("microsoft-graph", secret=GRAPH_STATE)
    assert check(src, inbound(graph_body(GRAPH_STATE, GRAPH_STATE))).ok
    mixed = check(src, inbound(graph_body(GRAPH_STATE, "forged")))
    assert (mixed.ok, mixed.reason) == (False, "value[1].clientState does not match")
    assert not check(src, inbound(b'{"value": []}')).ok
    assert not check(src, inbound(b'{"value": [{}]}')).ok
    description = describe_request(src, inbound(graph_body(GRAPH_STATE, change="updated")))
    assert (description.event_type, description.dedup_key) == ("microsoft-graph.updated", None)
