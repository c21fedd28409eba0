"""Twilio, with twilio-python's RequestValidator as the oracle that signs."""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

import orjson
import pytest
from twilio.request_validator import RequestValidator

from hookd.core.providers import describe_request
from hookd.core.providers.twilio import signed_urls
from tests.unit.providers.inbound_builders import check, inbound, source

TOKEN = "12345678901234567890123456789012"
ORACLE = RequestValidator(TOKEN)
URL = "https://mycompany.example.com/in/src_sms?tenant=a"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
FORM = urlencode(PARAMS).encode()


class RepeatedParams(dict[str, str]):
    """The multi-dict shape (``getall``) the SDK reads repeated form fields through."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__(pairs)
        self._pairs = pairs

    def getall(self, name: str) -> list[str]:
        return [value for key, value in self._pairs if key == name]


def twilio_headers(signature: str, **extra: str) -> dict[str, str]:
    return {"X-Twilio-Signature": signature, **extra}


def test_form_post_signed_by_the_oracle_is_accepted() -> None:
    signature = ORACLE.compute_signature(URL, PARAMS)
    assert ORACLE.validate(URL, PARAMS, signature)
    assert check(
        source("twilio", secret=TOKEN), inbound(FORM, twilio_headers(signature), url=URL)
    ).ok


def test_tampered_params_and_wrong_token_are_rejected() -> None:
    src = source("twilio", secret=TOKEN)
    signature = ORACLE.compute_signature(URL, PARAMS)
    tampered = FORM.replace(b"Digits=1234", b"Digits=9999")
    assert check(src, inbound(tampered, twilio_headers(signature), url=URL)).code == (
        "signature_mismatch"
    )
    other = RequestValidator("another-token").compute_signature(URL, PARAMS)
    assert not check(src, inbound(FORM, twilio_headers(other), url=URL)).ok
    # The URL is signed: the same params posted to another path must fail.
    assert not check(src, inbound(FORM, twilio_headers(signature), url=URL + "&x=1")).ok


@pytest.mark.parametrize(
    ("signed_url", "called_url"),
    [
        ("https://mycompany.example.com:443/in/s", "https://mycompany.example.com/in/s"),
        ("https://mycompany.example.com/in/s", "https://mycompany.example.com:443/in/s"),
        ("https://mycompany.example.com/in/s", "https://mycompany.example.com:8443/in/s"),
        ("http://mycompany.example.com:80/in/s", "http://mycompany.example.com/in/s"),
    ],
)
def test_port_variants_follow_the_sdk(signed_url: str, called_url: str) -> None:
    signature = ORACLE.compute_signature(signed_url, PARAMS)
    assert ORACLE.validate(called_url, PARAMS, signature)
    request = inbound(FORM, twilio_headers(signature), url=called_url)
    assert check(source("twilio", secret=TOKEN), request).ok


def test_repeated_params_are_sorted_like_the_sdk() -> None:
    params = RepeatedParams([("b", "2"), ("a", "z"), ("a", "y")])
    signature = ORACLE.compute_signature(URL, params)
    request = inbound(b"b=2&a=z&a=y", twilio_headers(signature), url=URL)
    assert check(source("twilio", secret=TOKEN), request).ok


def test_json_body_uses_body_sha256() -> None:
    body = orjson.dumps({"type": "com.twilio.messaging.message.delivered", "id": "x"})
    url = f"https://mycompany.example.com/in/s?bodySHA256={hashlib.sha256(body).hexdigest()}"
    signature = ORACLE.compute_signature(url, {})
    assert ORACLE.validate(url, body.decode(), signature)
    src = source("twilio", secret=TOKEN)
    assert check(src, inbound(body, twilio_headers(signature), url=url)).ok
    tampered = check(src, inbound(body + b" ", twilio_headers(signature), url=url))
    assert tampered.code == "body_hash_mismatch"


def test_sha256_signature_settings() -> None:
    signature = ORACLE.compute_signature(URL, PARAMS, "HMAC_SHA256")
    settings = {"X-Twilio-Webhooks-Signature-Settings": "key=KS123,algorithm=HMAC_SHA256"}
    request = inbound(FORM, twilio_headers(signature, **settings), url=URL)
    assert check(source("twilio", secret=TOKEN), request).ok
    unknown = {"X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_MD5"}
    assert not check(
        source("twilio", secret=TOKEN), inbound(FORM, unknown | twilio_headers(signature), url=URL)
    ).ok


def test_event_type_and_dedup() -> None:
    src = source("twilio", secret=TOKEN)
    request = inbound(
        b"MessageSid=SM1&MessageStatus=delivered", {"I-Twilio-Idempotency-Token": "tok-1"}
    )
    description = describe_request(src, request)
    assert (description.event_type, description.dedup_key) == ("twilio.message.delivered", "tok-1")
    assert describe_request(src, inbound(b"CallStatus=ringing")).event_type == "twilio.call.ringing"


def test_signed_urls_handle_ipv6_and_bad_ports() -> None:
    assert "https://[::1]:443/x" in signed_urls("https://[::1]/x")
    assert signed_urls("https://host:99999/x") == ["https://host:99999/x"]
