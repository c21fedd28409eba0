"""Standard Webhooks signing, with the reference library as the oracle."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import standardwebhooks
from hypothesis import given, settings
from hypothesis import strategies as st

from hookd.core.signing import (
    Ed25519Key,
    HmacKey,
    SignatureError,
    generate_ed25519_secret,
    generate_hmac_secret,
    parse_signing_key,
    parse_verifying_key,
    sign,
    signature_header,
    verify,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
msg_ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=40)


@settings(max_examples=200)
@given(raw=st.binary(min_size=24, max_size=64), msg_id=msg_ids, text=st.text(max_size=2000))
def test_hmac_signatures_verify_with_the_reference_library(
    raw: bytes, msg_id: str, text: str
) -> None:
    key = HmacKey(raw)
    body = json.dumps({"text": text}, ensure_ascii=False).encode()
    now = int(time.time())  # the reference library reads the real clock
    header = signature_header([key], msg_id, now, body)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(now), "webhook-signature": header}
    standardwebhooks.Webhook(key.secret).verify(body, headers)


def test_reference_library_signature_matches_ours() -> None:
    secret = generate_hmac_secret()
    theirs = standardwebhooks.Webhook(secret).sign("msg_1", NOW, '{"a":1}')
    assert theirs == sign(parse_signing_key(secret), "msg_1", TS, b'{"a":1}')


@settings(max_examples=50)
@given(msg_id=msg_ids, body=st.binary(max_size=500))
def test_ed25519_round_trip(msg_id: str, body: bytes) -> None:
    key = parse_signing_key(generate_ed25519_secret())
    assert isinstance(key, Ed25519Key)
    header = sign(key, msg_id, TS, body)
    assert header.startswith("v1a,")
    verify([parse_verifying_key(key.public_secret)], msg_id, str(TS), header, body, now=NOW)
    with pytest.raises(SignatureError):
        verify([key], msg_id, str(TS), header, body + b"x", now=NOW)


def test_rotation_signs_once_per_key_and_either_verifies() -> None:
    old, new = (parse_signing_key(generate_hmac_secret()) for _ in range(2))
    header = signature_header([new, old], "msg_1", TS, b"{}")
    assert len(header.split()) == 2
    for key in (old, new):
        verify([key], "msg_1", str(TS), header, b"{}", now=NOW)


@pytest.mark.parametrize(
    ("offset", "ok"), [(0, True), (-299, True), (299, True), (-301, False), (301, False)]
)
def test_timestamp_tolerance_both_ways(offset: int, ok: bool) -> None:
    key = parse_signing_key(generate_hmac_secret())
    header = sign(key, "m", TS + offset, b"x")
    if ok:
        verify([key], "m", str(TS + offset), header, b"x", now=NOW)
    else:
        with pytest.raises(SignatureError):
            verify([key], "m", str(TS + offset), header, b"x", now=NOW)
    verify(
        [key],
        "m",
        str(TS + offset),
        header,
        b"x",
        now=NOW + timedelta(days=9),
        tolerance_seconds=None,
    )


@settings(max_examples=300)
@given(
    timestamp=st.text(max_size=40), signature=st.text(max_size=200), body=st.binary(max_size=100)
)
def test_garbage_never_raises_anything_but_signature_error(
    timestamp: str, signature: str, body: bytes
) -> None:
    key = HmacKey(b"k" * 32)
    with pytest.raises(SignatureError):
        verify([key], "m", timestamp, signature, body, now=NOW)


@pytest.mark.parametrize(
    "secret",
    [
        "whsec_",
        "whsec_" + base64.b64encode(b"short").decode(),
        "not-base64!",
        "whsk_" + "A" * 10,
        "whpk_QUJD",
    ],
)
def test_bad_secrets_are_rejected_clearly(secret: str) -> None:
    with pytest.raises(SignatureError):
        parse_signing_key(secret)


def test_generated_secrets_have_the_standard_shape() -> None:
    secret = generate_hmac_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 24
    assert parse_signing_key(generate_ed25519_secret()).secret.startswith("whsk_")
