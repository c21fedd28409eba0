"""generic-webhook: configurable HMACs, basic auth, bearer and API-key headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import orjson
import pytest

from hookd.core.providers import ConfigError, describe_request
from tests.unit.providers.inbound_builders import TS, check, inbound, later, source

BODY = orjson.dumps({"data": {"items": [{"id": "ord_1"}]}, "kind": "order.created"})


def test_hmac_hex_with_prefix_and_timestamp_template() -> None:
    src = source(
        "generic-webhook",
        auth="hmac",
        secret="s3cret",
        signatureHeader="X-Signature",
        signaturePrefix="sha256=",
        signedContent="{timestamp}.{body}",
        timestampHeader="X-Timestamp",
        toleranceSeconds=60,
    )
    digest = hmac.new(b"s3cret", f"{TS}.".encode() + BODY, hashlib.sha256).hexdigest()
    headers = {"X-Signature": f"sha256={digest}", "X-Timestamp": str(TS)}
    assert check(src, inbound(BODY, headers)).ok
    assert not check(src, inbound(BODY, headers | {"X-Timestamp": str(TS + 1)})).ok
    assert (
        check(src, inbound(BODY, headers), later(61)).reason
        == "timestamp outside the 60 s tolerance"
    )
    assert check(src, inbound(BODY, headers | {"X-Signature": digest})).code == "malformed_header"
    assert check(src, inbound(BODY, {"X-Signature": f"sha256={digest}"})).reason == (
        "missing header X-Timestamp"
    )


@pytest.mark.parametrize("encoding", ["base64", "base64url"])
def test_hmac_sha512_base64_with_id_and_base64_secret(encoding: str) -> None:
    key = b"\x00\xff binary key"
    src = source(
        "generic-webhook",
        auth="hmac",
        secret=base64.b64encode(key).decode(),
        secretEncoding="base64",
        algorithm="sha512",
        encoding=encoding,
        signatureHeader="Signature",
        signedContent="{id}:{body}",
        idHeader="Delivery-Id",
        dedupHeader="Delivery-Id",
    )
    digest = hmac.new(key, b"d-1:" + BODY, hashlib.sha512).digest()
    encoder = base64.urlsafe_b64encode if encoding == "base64url" else base64.b64encode
    headers = {"Signature": encoder(digest).decode(), "Delivery-Id": "d-1"}
    assert check(src, inbound(BODY, headers)).ok
    assert not check(src, inbound(BODY, headers | {"Delivery-Id": "d-2"})).ok
    assert describe_request(src, inbound(BODY, headers)).dedup_key == "d-1"


def test_basic_bearer_and_api_key() -> None:
    basic = source("generic-webhook", auth="basic", username="hook", secret="pa:ss")
    good = "Basic " + base64.b64encode(b"hook:pa:ss").decode()
    assert check(basic, inbound(BODY, {"Authorization": good})).ok
    bad = "Basic " + base64.b64encode(b"hook:nope").decode()
    assert check(basic, inbound(BODY, {"Authorization": bad})).code == "credential_mismatch"
    assert not check(basic, inbound(BODY, {"Authorization": "Basic !!!"})).ok
    bearer = source("generic-webhook", auth="bearer", secret="tok")
    assert check(bearer, inbound(BODY, {"Authorization": "Bearer tok"})).ok
    assert not check(bearer, inbound(BODY, {"Authorization": "Basic tok"})).ok
    api_key = source("generic-webhook", auth="api-key", headerName="X-Api-Key", secret="k1")
    assert check(api_key, inbound(BODY, {"x-api-key": "k1"})).ok
    assert check(api_key, inbound(BODY)).reason == "missing header X-Api-Key"
    assert check(source("generic-webhook", auth="none"), inbound(BODY)).ok


def test_event_type_and_dedup_json_paths() -> None:
    src = source(
        "generic-webhook",
        auth="none",
        eventTypeJsonPath="$.kind",
        dedupJsonPath="data.items.0.id",
    )
    description = describe_request(src, inbound(BODY))
    assert (description.event_type, description.dedup_key) == (
        "generic-webhook.order.created",
        "ord_1",
    )
    assert describe_request(src, inbound(b"not json")).dedup_key is None


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({}, "auth"),
        ({"auth": "magic"}, "auth"),
        ({"auth": "hmac", "secret": "s"}, "signatureHeader"),
        (
            {"auth": "hmac", "secret": "s", "signatureHeader": "X", "signedContent": "{ts}.{body}"},
            "signedContent",
        ),
        (
            {"auth": "hmac", "secret": "s", "signatureHeader": "X", "signedContent": "{timestamp}"},
            "signedContent",
        ),
        (
            {
                "auth": "hmac",
                "secret": "s",
                "signatureHeader": "X",
                "signedContent": "{timestamp}.{body}",
            },
            "timestampHeader",
        ),
        ({"auth": "hmac", "secret": "s", "signatureHeader": "X", "algorithm": "md5"}, "algorithm"),
        (
            {"auth": "hmac", "secret": "%%", "secretEncoding": "base64", "signatureHeader": "X"},
            "secret",
        ),
        ({"auth": "basic", "username": "a:b", "secret": "s"}, "username"),
        ({"auth": "bearer", "secret": "s", "tolerance": 5}, "tolerance"),
        ({"auth": "none", "dedupJsonPath": "a..b"}, "dedupJsonPath"),
    ],
)
def test_config_errors_name_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as error:
        source("generic-webhook", **raw)
    assert error.value.field == field
