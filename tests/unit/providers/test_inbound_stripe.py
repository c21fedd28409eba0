"""Stripe, with stripe-python as the oracle that signs (and double-checks) the header."""

from __future__ import annotations

import orjson
import pytest
import stripe

from hookd.core.providers import describe_request
from tests.unit.providers.inbound_builders import TS, check, inbound, later, rotation, source

SECRET = "whsec_test_secret_for_hookd"
BODY = orjson.dumps({"id": "evt_1NG8Du2eZvKYlo2CUI79vXWy", "type": "invoice.paid"})


def signed(body: bytes = BODY, secret: str = SECRET, timestamp: int = TS) -> dict[str, str]:
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=timestamp
    )
    return {"Stripe-Signature": header}


def test_oracle_signature_is_accepted() -> None:
    headers = signed()
    assert stripe.WebhookSignature.verify_header(BODY, headers["Stripe-Signature"], SECRET)
    assert check(source("stripe", secret=SECRET), inbound(BODY, headers)).ok


def test_header_name_is_case_insensitive() -> None:
    header = signed()["Stripe-Signature"]
    assert check(source("stripe", secret=SECRET), inbound(BODY, {"stripe-signature": header})).ok


@pytest.mark.parametrize(
    ("body", "secret", "code"),
    [
        (BODY + b" ", SECRET, "signature_mismatch"),
        (BODY, "whsec_other", "signature_mismatch"),
    ],
)
def test_tampered_body_or_wrong_secret_is_rejected(body: bytes, secret: str, code: str) -> None:
    result = check(source("stripe", secret=SECRET), inbound(body, signed(secret=secret)))
    assert (result.ok, result.code, result.reason) == (False, code, "signature does not match")


def test_stale_and_future_timestamps_are_rejected() -> None:
    src = source("stripe", secret=SECRET)
    request = inbound(BODY, signed())
    assert check(src, request, later(299)).ok
    stale = check(src, request, later(301))
    assert not stale.ok
    assert stale.reason == "timestamp outside the 300 s tolerance"
    assert not check(src, request, later(-301)).ok
    assert check(source("stripe", secret=SECRET, toleranceSeconds=600), request, later(599)).ok


def test_several_v1_entries_any_may_match() -> None:
    good = signed()["Stripe-Signature"]
    header = f"t={TS},v1={'0' * 64},{good.split(',')[1]},v0=ignored"
    assert check(source("stripe", secret=SECRET), inbound(BODY, {"Stripe-Signature": header})).ok


def test_previous_secret_counts_until_it_expires() -> None:
    old = "whsec_old_secret"
    request = inbound(BODY, signed(secret=old))
    assert check(source("stripe", secret=SECRET, **rotation(old, expires_in=60)), request).ok
    expired = source("stripe", secret=SECRET, **rotation(old, expires_in=-1))
    assert not check(expired, request).ok


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing header Stripe-Signature"),
        ("v1=abc", "header Stripe-Signature has no valid t=<unix seconds>"),
        (f"t={'9' * 40},v1=ab", "header Stripe-Signature has no valid t=<unix seconds>"),
        (f"t={TS}", "header Stripe-Signature has no v1 signature"),
        (f"t={TS},v1=not-hex", "signature does not match"),
    ],
)
def test_malformed_headers_have_reasons(header: str | None, reason: str) -> None:
    headers = {} if header is None else {"Stripe-Signature": header}
    result = check(source("stripe", secret=SECRET), inbound(BODY, headers))
    assert not result.ok
    assert result.reason == reason


def test_event_type_and_dedup_key_come_from_the_body() -> None:
    description = describe_request(source("stripe", secret=SECRET), inbound(BODY))
    assert description.event_type == "stripe.invoice.paid"
    assert description.dedup_key == "evt_1NG8Du2eZvKYlo2CUI79vXWy"
