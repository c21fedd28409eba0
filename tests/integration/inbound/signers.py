"""Requests signed the way each provider signs them, with the providers' own libraries."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from datetime import UTC, datetime

import standardwebhooks
import stripe
from slack_sdk.signature import SignatureVerifier
from twilio.request_validator import RequestValidator


def now_ts() -> int:
    return int(time.time())


def stripe_headers(body: bytes, secret: str) -> dict[str, str]:
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=now_ts()
    )
    return {"Stripe-Signature": header, "Content-Type": "application/json; charset=utf-8"}


def github_headers(
    body: bytes, secret: str, event: str, delivery: str | None = None
) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-Hub-Signature-256": f"sha256={digest}",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "Content-Type": "application/json",
    }


def slack_headers(body: bytes, secret: str) -> dict[str, str]:
    timestamp = str(now_ts())
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    assert signature is not None  # None only without a signing secret
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
        "Content-Type": "application/json",
    }


def twilio_signature(url: str, params: dict[str, str], token: str) -> str:
    return str(RequestValidator(token).compute_signature(url, params))


def standard_headers(body: bytes, secret: str, msg_id: str) -> dict[str, str]:
    signature = standardwebhooks.Webhook(secret).sign(msg_id, datetime.now(UTC), body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(now_ts()),
        "webhook-signature": signature,
        "Content-Type": "application/json",
    }


def hex_hmac(secret: str, content: bytes) -> str:
    return hmac.new(secret.encode(), content, hashlib.sha256).hexdigest()


def zoom_headers(body: bytes, secret: str) -> dict[str, str]:
    timestamp = now_ts()
    signature = hex_hmac(secret, f"v0:{timestamp}:".encode() + body)
    return {"x-zm-request-timestamp": str(timestamp), "x-zm-signature": f"v0={signature}"}


def twitch_headers(body: bytes, secret: str, message_type: str) -> dict[str, str]:
    message_id = str(uuid.uuid4())
    moment = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    signature = hex_hmac(secret, (message_id + moment).encode() + body)
    return {
        "Twitch-Eventsub-Message-Id": message_id,
        "Twitch-Eventsub-Message-Timestamp": moment,
        "Twitch-Eventsub-Message-Signature": f"sha256={signature}",
        "Twitch-Eventsub-Message-Type": message_type,
        "Twitch-Eventsub-Subscription-Type": "channel.follow",
    }
