"""Signed bodies the provider never sends (text, arrays, nothing) are ``malformed_body``."""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import zlib
from collections.abc import Callable
from urllib.parse import urlencode

import orjson
import pytest

from hookd.core.providers import describe_request
from tests.unit.providers.inbound_builders import NOW, TS, check, inbound, source

NOT_OBJECTS = [b"plain text", b"[1, 2]", b"", b"null", b'"text"', b"42"]
SECRET = "s3cret"


def hub(body: bytes) -> dict[str, str]:
    return {
        "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), body, "sha256").hexdigest()
    }


def v0(body: bytes, prefix: str) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), f"v0:{TS}:".encode() + body, "sha256").hexdigest()
    return {f"{prefix}-signature": f"v0={digest}", f"{prefix}-request-timestamp": str(TS)}


def shopify(body: bytes) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
    return {"X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode()}


def paddle(body: bytes) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), f"{TS}:".encode() + body, "sha256").hexdigest()
    return {"Paddle-Signature": f"ts={TS};h1={digest}"}


SIGNERS: dict[str, Callable[[bytes], dict[str, str]]] = {
    "github": hub,
    "meta": hub,
    "slack": lambda body: v0(body, "x-slack"),
    "zoom": lambda body: v0(body, "x-zm"),
    "shopify": shopify,
    "paddle": paddle,
    "gitlab": lambda body: {"X-Gitlab-Token": SECRET},
}
CONFIGS = {"meta": {"verifyToken": "v"}}


@pytest.mark.parametrize("provider", sorted(SIGNERS))
@pytest.mark.parametrize("body", NOT_OBJECTS)
def test_signed_non_objects_are_malformed(provider: str, body: bytes) -> None:
    src = source(provider, secret=SECRET, **CONFIGS.get(provider, {}))
    verdict = check(src, inbound(body, SIGNERS[provider](body)))
    assert (verdict.ok, verdict.code) == (False, "malformed_body")
    good = orjson.dumps({"type": "x", "id": "1"})
    assert check(src, inbound(good, SIGNERS[provider](good)), NOW).ok


def test_unsigned_garbage_is_still_a_signature_failure() -> None:
    verdict = check(source("github", secret=SECRET), inbound(b"text", hub(b"other")))
    assert verdict.code == "signature_mismatch"


def test_forms_the_providers_send_are_kept() -> None:
    github = source("github", secret=SECRET)
    form = urlencode({"payload": orjson.dumps({"action": "opened"}).decode()}).encode()
    assert check(github, inbound(form, hub(form))).ok
    not_json = urlencode({"payload": "text"}).encode()
    assert check(github, inbound(not_json, hub(not_json))).code == "malformed_body"
    slack = source("slack", secret=SECRET)
    for fields in (
        {"command": "/deploy", "text": "prod"},
        {"ssl_check": "1", "token": "t"},
        {"payload": orjson.dumps({"type": "block_actions"}).decode()},
    ):
        body = urlencode(fields).encode()
        assert check(slack, inbound(body, v0(body, "x-slack"))).ok, fields
    shop = source("shopify", secret=SECRET)
    xml = b'<?xml version="1.0"?><order><id>1</id></order>'
    assert check(shop, inbound(xml, shopify(xml) | {"Content-Type": "application/xml"})).ok
    assert check(shop, inbound(xml, shopify(xml))).code == "malformed_body"


def test_providers_that_take_any_body_are_unchanged() -> None:
    generic = source("generic-webhook", auth="none")
    assert check(generic, inbound(b"plain text")).ok


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_a_compressed_object_is_read_decoded(coding: str) -> None:
    """Signatures cover the bytes as sent; the body's shape, event type and dedup key are read
    from the decoded payload (a gzip body used to be ``malformed_body``)."""
    payload = orjson.dumps({"ref": "refs/heads/main"})
    wire = gzip.compress(payload) if coding == "gzip" else zlib.compress(payload)
    headers = {
        **hub(wire),
        "Content-Encoding": coding,
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": "d-1",
    }
    src = source("github", secret=SECRET)
    request = inbound(wire, headers)
    assert check(src, request).ok
    assert describe_request(src, request).event_type == "github.push"
    junk = gzip.compress(b"plain text")
    assert check(src, inbound(junk, {**hub(junk), "Content-Encoding": "gzip"})).code == (
        "malformed_body"
    )
