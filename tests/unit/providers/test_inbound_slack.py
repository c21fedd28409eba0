"""Slack, with slack_sdk's SignatureVerifier as the oracle."""

from __future__ import annotations

from urllib.parse import urlencode

import orjson
from slack_sdk.signature import Clock, SignatureVerifier

from hookd.core.providers import describe_request, handshake_reply
from tests.unit.providers.inbound_builders import NOW, TS, check, inbound, later, source

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


class FixedClock(Clock):
    def now(self) -> float:
        return NOW.timestamp()


ORACLE = SignatureVerifier(SECRET, clock=FixedClock())


def signed(body: bytes, secret: str = SECRET, timestamp: int = TS) -> dict[str, str]:
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    assert signature is not None
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


EVENT = orjson.dumps(
    {
        "type": "event_callback",
        "event_id": "Ev08MFMKH6",
        "event": {"type": "app_mention", "text": "<@U0LAN0Z89> hi"},
    }
)


def test_oracle_signature_is_accepted_and_agrees() -> None:
    headers = signed(EVENT)
    assert ORACLE.is_valid_request(EVENT, headers)
    assert check(source("slack", secret=SECRET), inbound(EVENT, headers)).ok


def test_tampered_wrong_secret_and_stale_are_rejected() -> None:
    src = source("slack", secret=SECRET)
    assert check(src, inbound(EVENT + b"\n", signed(EVENT))).code == "signature_mismatch"
    assert check(src, inbound(EVENT, signed(EVENT, secret="other"))).code == "signature_mismatch"
    stale = signed(EVENT, timestamp=TS - 301)
    assert not ORACLE.is_valid_request(EVENT, stale)
    assert check(src, inbound(EVENT, stale)).reason == "timestamp outside the 300 s tolerance"
    assert check(src, inbound(EVENT, signed(EVENT)), later(300)).ok


def test_missing_timestamp_names_the_header() -> None:
    headers = signed(EVENT)
    del headers["X-Slack-Request-Timestamp"]
    result = check(source("slack", secret=SECRET), inbound(EVENT, headers))
    assert result.reason == "missing header X-Slack-Request-Timestamp"


def test_url_verification_is_answered_only_when_signed() -> None:
    src = source("slack", secret=SECRET)
    body = orjson.dumps({"type": "url_verification", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9C"})
    reply = handshake_reply(src, inbound(body, signed(body)), NOW)
    assert reply is not None
    assert reply.status == 200
    assert orjson.loads(reply.body) == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9C"}
    assert handshake_reply(src, inbound(body), NOW) is None
    assert handshake_reply(src, inbound(EVENT, signed(EVENT)), NOW) is None


def test_event_types_and_dedup() -> None:
    src = source("slack", secret=SECRET)
    description = describe_request(src, inbound(EVENT))
    assert (description.event_type, description.dedup_key) == ("slack.app_mention", "Ev08MFMKH6")
    command = urlencode({"command": "/deploy", "text": "prod"}).encode()
    assert describe_request(src, inbound(command)).event_type == "slack.slash_command"
    payload = urlencode({"payload": orjson.dumps({"type": "block_actions"}).decode()}).encode()
    assert describe_request(src, inbound(payload)).event_type == "slack.block_actions"
    # Form bodies are signed over their raw bytes too.
    assert check(src, inbound(command, signed(command))).ok
