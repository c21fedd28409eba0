"""Paddle, Zoom, Twitch and GitLab: signatures over a timestamp or a token."""

from __future__ import annotations

import base64
import hashlib
import hmac

import orjson
import standardwebhooks

from hookd.core.providers import describe_request, handshake_reply
from tests.unit.providers.inbound_builders import NOW, TS, check, inbound, later, source


def hex_hmac(secret: str, content: bytes) -> str:
    return hmac.new(secret.encode(), content, hashlib.sha256).hexdigest()


PADDLE_BODY = orjson.dumps(
    {"event_id": "evt_01h8", "notification_id": "ntf_01h8", "event_type": "transaction.completed"}
)


def test_paddle_signature_tolerance_and_rotation_header() -> None:
    src = source("paddle", secret="pdl_ntfset_secret")
    signature = hex_hmac("pdl_ntfset_secret", f"{TS}:".encode() + PADDLE_BODY)
    header = {"Paddle-Signature": f"ts={TS};h1={'ab' * 32};h1={signature}"}
    assert check(src, inbound(PADDLE_BODY, header)).ok
    assert check(src, inbound(PADDLE_BODY, header), later(5)).ok
    assert check(src, inbound(PADDLE_BODY, header), later(6)).code == "timestamp_out_of_tolerance"
    assert not check(src, inbound(PADDLE_BODY + b" ", header)).ok
    description = describe_request(src, inbound(PADDLE_BODY))
    assert description.event_type == "paddle.transaction.completed"
    assert description.dedup_key == "evt_01h8"


ZOOM_SECRET = "zoom-secret-token"


def zoom_headers(body: bytes, timestamp: int = TS, secret: str = ZOOM_SECRET) -> dict[str, str]:
    signature = hex_hmac(secret, f"v0:{timestamp}:".encode() + body)
    return {"x-zm-request-timestamp": str(timestamp), "x-zm-signature": f"v0={signature}"}


def test_zoom_signature_and_crc_handshake() -> None:
    src = source("zoom", secret=ZOOM_SECRET)
    event = orjson.dumps({"event": "meeting.started", "event_ts": 1700000000000, "payload": {}})
    assert check(src, inbound(event, zoom_headers(event))).ok
    assert not check(src, inbound(event, zoom_headers(event, secret="x"))).ok
    assert not check(src, inbound(event, zoom_headers(event)), later(301)).ok
    assert describe_request(src, inbound(event)).event_type == "zoom.meeting.started"
    validation = orjson.dumps(
        {"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}}
    )
    reply = handshake_reply(src, inbound(validation, zoom_headers(validation)), NOW)
    assert reply is not None
    assert orjson.loads(reply.body) == {
        "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
        "encryptedToken": hex_hmac(ZOOM_SECRET, b"qgg8vlvZRS6UYooatFL8Aw"),
    }
    # Unsigned validation would be a signing oracle for arbitrary strings: refused.
    assert handshake_reply(src, inbound(validation), NOW) is None
    oracle_attempt = orjson.dumps(
        {"event": "endpoint.url_validation", "payload": {"plainToken": f"v0:{TS}:{{}}"}}
    )
    signed_attempt = inbound(oracle_attempt, zoom_headers(oracle_attempt))
    # Signed, but not a token: refused with 400 (no signature), never taken as an event.
    refused = handshake_reply(src, signed_attempt, NOW)
    assert refused is not None and refused.status == 400 and refused.refused is not None
    assert orjson.loads(refused.body)["code"] == "malformed_challenge"
    assert hex_hmac(ZOOM_SECRET, f"v0:{TS}:{{}}".encode()).encode() not in refused.body
    assert handshake_reply(src, inbound(oracle_attempt), NOW) is None  # unsigned: 401 later


TWITCH_SECRET = "s3cre7-twitch-subscription"
TWITCH_TIME = NOW.strftime("%Y-%m-%dT%H:%M:%S") + ".123456789Z"


def twitch_headers(body: bytes, message_type: str = "notification") -> dict[str, str]:
    message_id = "e76c6bd4-55c9-4987-8304-da1588d8988b"
    signature = hex_hmac(TWITCH_SECRET, (message_id + TWITCH_TIME).encode() + body)
    return {
        "Twitch-Eventsub-Message-Id": message_id,
        "Twitch-Eventsub-Message-Timestamp": TWITCH_TIME,
        "Twitch-Eventsub-Message-Signature": f"sha256={signature}",
        "Twitch-Eventsub-Message-Type": message_type,
        "Twitch-Eventsub-Subscription-Type": "channel.follow",
    }


def test_twitch_signature_challenge_and_types() -> None:
    src = source("twitch", secret=TWITCH_SECRET)
    body = orjson.dumps({"subscription": {"type": "channel.follow"}, "event": {}})
    assert check(src, inbound(body, twitch_headers(body))).ok
    assert check(src, inbound(body, twitch_headers(body)), later(599)).ok
    assert not check(src, inbound(body, twitch_headers(body)), later(601)).ok
    assert not check(src, inbound(body + b"x", twitch_headers(body))).ok
    described = describe_request(src, inbound(body, twitch_headers(body)))
    assert described.event_type == "twitch.channel.follow"
    assert described.dedup_key == "e76c6bd4-55c9-4987-8304-da1588d8988b"
    challenge = orjson.dumps({"challenge": "pogchamp-kappa-360noscope-vohiyo"})
    headers = twitch_headers(challenge, "webhook_callback_verification")
    reply = handshake_reply(src, inbound(challenge, headers), NOW)
    assert reply is not None
    assert (reply.status, reply.body) == (200, b"pogchamp-kappa-360noscope-vohiyo")
    assert reply.content_type is not None
    assert reply.content_type.startswith("text/plain")
    unsigned = {k: v for k, v in headers.items() if "Signature" not in k}
    assert handshake_reply(src, inbound(challenge, unsigned), NOW) is None
    revoked = twitch_headers(body, "revocation")
    assert describe_request(src, inbound(body, revoked)).event_type == "twitch.revocation"


def test_gitlab_token_mode() -> None:
    src = source("gitlab", secret="glpat-token-value")
    body = orjson.dumps({"object_kind": "merge_request"})
    headers = {
        "X-Gitlab-Token": "glpat-token-value",
        "X-Gitlab-Event": "Merge Request Hook",
        "Idempotency-Key": "f6b1e1a2-0000",
    }
    assert check(src, inbound(body, headers)).ok
    wrong = check(src, inbound(body, headers | {"X-Gitlab-Token": "glpat-token-valuE"}))
    assert (wrong.ok, wrong.reason) == (False, "X-Gitlab-Token does not match")
    assert check(src, inbound(body)).reason == "missing header X-Gitlab-Token"
    description = describe_request(src, inbound(body, headers))
    assert (description.event_type, description.dedup_key) == (
        "gitlab.merge_request",
        "f6b1e1a2-0000",
    )
    header_only = describe_request(src, inbound(b"", {"X-Gitlab-Event": "Merge Request Hook"}))
    assert header_only.event_type == "gitlab.merge_request"


def test_gitlab_signing_token_mode_uses_standard_webhooks() -> None:
    secret = "whsec_" + base64.b64encode(b"g" * 32).decode()
    src = source("gitlab", mode="signing-token", secret=secret)
    body = orjson.dumps({"object_kind": "push"})
    signature = standardwebhooks.Webhook(secret).sign("idem-1", NOW, body.decode())
    headers = {"webhook-id": "idem-1", "webhook-timestamp": str(TS), "webhook-signature": signature}
    assert check(src, inbound(body, headers)).ok
    assert not check(src, inbound(body, headers), later(301)).ok
    assert not check(src, inbound(body, {"X-Gitlab-Token": secret})).ok
