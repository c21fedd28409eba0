"""Standard Webhooks and Svix, with the standardwebhooks and svix packages as oracles."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import orjson
import pytest
import standardwebhooks
import svix.webhooks

from hookd.core import signing
from hookd.core.providers import ConfigError, describe_request
from tests.unit.providers.inbound_builders import NOW, TS, check, inbound, later, rotation, source

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
OTHER = "whsec_" + base64.b64encode(b"o" * 32).decode()
BODY = orjson.dumps({"type": "invoice.paid", "timestamp": "2026-11-23T12:00:00Z", "data": {}})


def standard_headers(
    secret: str = SECRET, body: bytes = BODY, msg_id: str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
) -> dict[str, str]:
    signature = standardwebhooks.Webhook(secret).sign(msg_id, NOW, body.decode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(TS), "webhook-signature": signature}


def test_oracle_v1_signature_is_accepted() -> None:
    headers = standard_headers()
    assert check(source("standard-webhooks", secret=SECRET), inbound(BODY, headers), NOW).ok


def test_oracle_and_hookd_agree_at_the_real_time() -> None:
    # The oracle reads the wall clock, so this one case signs at the wall clock too.
    now = datetime.now(UTC)
    signature = standardwebhooks.Webhook(SECRET).sign("msg_1", now, BODY.decode())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    standardwebhooks.Webhook(SECRET).verify(BODY, headers)
    assert check(source("standard-webhooks", secret=SECRET), inbound(BODY, headers), now).ok


def test_tampered_wrong_secret_and_stale_are_rejected() -> None:
    src = source("standard-webhooks", secret=SECRET)
    assert not check(src, inbound(BODY + b"x", standard_headers())).ok
    assert check(src, inbound(BODY, standard_headers(OTHER))).code == "signature_mismatch"
    stale = check(src, inbound(BODY, standard_headers()), later(301))
    assert stale.reason == "timestamp outside the 300 s tolerance"
    assert not check(src, inbound(BODY, standard_headers()), later(-301)).ok


def test_rotation_accepts_previous_until_expiry() -> None:
    request = inbound(BODY, standard_headers(OTHER))
    assert check(
        source("standard-webhooks", secret=SECRET, **rotation(OTHER, expires_in=5)), request
    ).ok
    assert not check(
        source("standard-webhooks", secret=SECRET, **rotation(OTHER, expires_in=5)),
        request,
        later(6),
    ).ok


def test_v1a_ed25519_with_public_key() -> None:
    key = signing.parse_signing_key(signing.generate_ed25519_secret())
    assert isinstance(key, signing.Ed25519Key)
    header = signing.sign(key, "msg_1", TS, BODY)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(TS), "webhook-signature": header}
    src = source("standard-webhooks", secret=key.public_secret)
    assert check(src, inbound(BODY, headers)).ok
    assert not check(src, inbound(BODY + b" ", headers)).ok


def test_svix_headers_with_svix_oracle() -> None:
    msg_id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    signature = svix.webhooks.Webhook(SECRET).sign(msg_id, NOW, BODY.decode())
    headers = {"svix-id": msg_id, "svix-timestamp": str(TS), "svix-signature": signature}
    src = source("svix", secret=SECRET)
    assert check(src, inbound(BODY, headers)).ok
    assert check(src, inbound(BODY, standard_headers())).ok  # webhook-* is accepted too
    assert describe_request(src, inbound(BODY, headers)).dedup_key == msg_id
    missing = check(src, inbound(BODY, {"svix-id": msg_id}))
    assert missing.reason == "missing header svix-timestamp"


def test_huge_timestamp_is_malformed_not_an_overflow() -> None:
    headers = standard_headers() | {"webhook-timestamp": "9" * 400}
    result = check(source("standard-webhooks", secret=SECRET), inbound(BODY, headers))
    assert (result.ok, result.code) == (False, "malformed_header")


def test_event_type_and_bad_config() -> None:
    src = source("standard-webhooks", secret=SECRET)
    description = describe_request(src, inbound(BODY, standard_headers()))
    assert description.event_type == "standard-webhooks.invoice.paid"
    assert description.dedup_key == "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
    with pytest.raises(ConfigError) as error:
        source("standard-webhooks", secret="whsec_not base64!")
    assert error.value.field == "secret"
