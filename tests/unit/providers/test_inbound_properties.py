"""Property tests: no provider raises on any request, and garbage never verifies."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hookd.core.providers import (
    PROVIDERS,
    ConfigError,
    HandshakeReply,
    Headers,
    InboundRequest,
    describe_request,
    handshake_reply,
    parse_verifier,
    verify_request,
)
from tests.unit.providers.inbound_builders import NOW

ED25519_PUBLIC = "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29"
WHSEC = "whsec_" + base64.b64encode(b"p" * 32).decode()
CONFIGS: dict[str, dict[str, Any]] = {
    "generic-webhook": {
        "auth": "hmac",
        "secret": "generic-secret",
        "signatureHeader": "X-Signature",
        "signaturePrefix": "sha256=",
        "signedContent": "{timestamp}.{id}.{body}",
        "timestampHeader": "X-Timestamp",
        "idHeader": "X-Id",
        "eventTypeJsonPath": "type",
        "dedupJsonPath": "data.0.id",
    },
    "standard-webhooks": {"secret": WHSEC},
    "svix": {"secret": WHSEC},
    "stripe": {"secret": "whsec_stripe"},
    "github": {"secret": "gh-secret", "allowSha1": True},
    "gitlab": {"secret": "gl-token"},
    "shopify": {"secret": "shop-secret"},
    "slack": {"secret": "slack-secret"},
    "twilio": {"secret": "twilio-token"},
    "meta": {"secret": "meta-secret", "verifyToken": "meta-verify"},
    "paddle": {"secret": "paddle-secret"},
    "zoom": {"secret": "zoom-secret"},
    "discord": {"publicKey": ED25519_PUBLIC},
    "twitch": {"secret": "twitch-secret"},
    "microsoft-graph": {"secret": "graph-state"},
}
EXTRA_CONFIGS = [
    ("gitlab", {"mode": "signing-token", "secret": WHSEC}),
    ("generic-webhook", {"auth": "basic", "username": "u", "secret": "p"}),
    ("generic-webhook", {"auth": "bearer", "secret": "tok", "dedupHeader": "X-Id"}),
]
HEADER_NAMES = [
    "Stripe-Signature", "X-Hub-Signature-256", "X-Hub-Signature", "X-GitHub-Event",
    "X-GitHub-Delivery", "X-Gitlab-Token", "X-Gitlab-Event", "Idempotency-Key",
    "X-Shopify-Hmac-Sha256", "Shopify-Hmac-Sha256", "X-Shopify-Topic", "X-Shopify-Webhook-Id",
    "X-Slack-Signature", "X-Slack-Request-Timestamp", "X-Twilio-Signature",
    "X-Twilio-Webhooks-Signature-Settings", "I-Twilio-Idempotency-Token", "Paddle-Signature",
    "x-zm-signature", "x-zm-request-timestamp", "X-Signature-Ed25519", "X-Signature-Timestamp",
    "Twitch-Eventsub-Message-Id", "Twitch-Eventsub-Message-Timestamp",
    "Twitch-Eventsub-Message-Signature", "Twitch-Eventsub-Message-Type",
    "Twitch-Eventsub-Subscription-Type", "webhook-id", "webhook-timestamp", "webhook-signature",
    "svix-id", "svix-timestamp", "svix-signature", "Authorization", "X-Signature",
    "X-Timestamp", "X-Id",
]  # fmt: skip
SHAPED_VALUES = [
    "", " ", "t=", "t=1,v1=", "v1=zz", "sha256=", "sha256=zz", "v0=", "v0=00", "ts=;h1=",
    "ts=1;h1=00", "v1,", "v1,====", "v1a,AAAA", "Basic", "Basic !!", "Bearer", "Bearer ",
    "9" * 40, "-1", "1e9", "١٢٣", "2026-11-23T12:00:00.123456789Z", "2026-13-45T99:99:99Z",
    "webhook_callback_verification", "notification", "revocation", "ping", "Push Hook",
    "algorithm=HMAC_SHA256", "algorithm=", "\x00", "\ud800", "ÿ", "a" * 2000,
]  # fmt: skip
KEYS = [
    "type", "id", "event", "event_id", "event_type", "challenge", "plainToken", "payload",
    "value", "clientState", "changeType", "lifecycleEvent", "object", "entry", "changes",
    "field", "messages", "statuses", "status", "messaging", "message", "mid", "object_kind",
    "event_name", "token", "data", "subscription", "eventType", "notification_id",
]  # fmt: skip

texts = st.one_of(st.sampled_from(SHAPED_VALUES), st.text(max_size=60))
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), texts
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner, max_size=4),
    ),
    max_leaves=12,
)
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.sampled_from(
        [b"", b"payload=%7B%22type%22%3A1%7D", b"command=%2Fx", b"a=1&a=2&=", b"[" * 3000]
    ),
)
headers = st.lists(
    st.tuples(st.one_of(st.sampled_from(HEADER_NAMES), st.text(max_size=12)), texts), max_size=8
)
query_keys = st.sampled_from(
    ["validationToken", "hub.mode", "hub.verify_token", "hub.challenge", "bodySHA256", "x"]
)
queries = st.lists(st.tuples(query_keys, texts), max_size=4)
urls = st.sampled_from(
    [
        "https://h.example/in/s",
        "http://h.example:8080/in/s?x=1",
        "https://[::1]/in/s",
        "https://h.example:99999/in/s",
        "not a url",
        "",
    ]
)
remote_ips = st.one_of(
    st.none(), st.sampled_from(["192.0.2.1", "::1", "garbage"]), st.text(max_size=10)
)


@st.composite
def requests(draw: st.DrawFn) -> InboundRequest:
    url = draw(urls)
    return InboundRequest(
        method=draw(st.sampled_from(["GET", "POST", "PUT", "get", ""])),
        url=url,
        path=urlsplit(url).path,
        query=tuple(draw(queries)),
        headers=Headers(draw(headers)),
        body=draw(bodies),
        remote_ip=draw(remote_ips),
    )


SOURCES = [(name, config) for name, config in CONFIGS.items()] + EXTRA_CONFIGS


def test_every_provider_has_a_property_config() -> None:
    # A request bin verifies nothing on purpose: it captures (tests/integration/test_bins.py);
    # a relay neither: its listeners verify (tests/integration/test_listen.py).
    assert set(CONFIGS) | {"bin", "relay"} == set(PROVIDERS)


@pytest.mark.parametrize(
    ("name", "raw"), SOURCES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SOURCES)]
)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=requests())
def test_providers_are_total_and_garbage_never_verifies(
    name: str, raw: dict[str, Any], request: InboundRequest
) -> None:
    source = parse_verifier(name, raw)
    verdict = verify_request(source, request, NOW)
    assert not verdict.ok
    assert verdict.reason
    assert verdict.code
    reply = handshake_reply(source, request, NOW)
    assert reply is None or isinstance(reply, HandshakeReply)
    if reply is not None:
        # Only unsigned handshakes can answer garbage, and they answer cleanly.
        assert name in ("meta", "microsoft-graph")
        assert 200 <= reply.status < 500
    description = describe_request(source, request)
    assert description.event_type is None or description.event_type.startswith(f"{name}.")
    assert description.dedup_key is None or isinstance(description.dedup_key, str)


@settings(max_examples=200, deadline=None)
@given(
    raw=st.dictionaries(
        st.sampled_from(
            [
                "secret",
                "auth",
                "mode",
                "toleranceSeconds",
                "publicKey",
                "verifyToken",
                "previousSecret",
                "previousSecretExpiresAt",
                "allowedIps",
                "signatureHeader",
                "signedContent",
            ]
        ),
        json_values,
        max_size=6,
    ),
    name=st.sampled_from(sorted(CONFIGS)),
)
def test_config_parsing_raises_only_config_errors(raw: dict[str, Any], name: str) -> None:
    try:
        parse_verifier(name, raw)
    except ConfigError as error:
        failure: ConfigError | None = error
    else:
        failure = None
    assert failure is None or failure.field
