"""Endpoint auth settings: masking, round trips, token requests and answers."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookd.core.calls.plan import CallSettings, plan_call
from hookd.core.calls.templates import MissingParam
from hookd.core.endpoint_auth import (
    AuthConfigError,
    BasicAuth,
    BearerAuth,
    ClientAuthMethod,
    OAuth2ClientCredentials,
    auth_from_json,
    auth_to_json,
    mask,
    parse_token_response,
    token_request,
)

secrets = st.text(min_size=1).filter(lambda s: "\r" not in s and "\n" not in s)


@given(secrets)
def test_a_mask_never_shows_more_than_four_characters(secret: str) -> None:
    shown = mask(secret).removeprefix("****")
    assert len(shown) <= 4
    assert len(secret) >= 16 or shown == ""


@given(secrets, secrets)
def test_sending_back_the_mask_keeps_the_secret_and_anything_else_replaces_it(
    old: str, new: str
) -> None:
    stored = BearerAuth(old)
    masked = auth_to_json(stored, masked=True)
    assert auth_from_json(masked, stored) == stored
    if new != mask(old):
        assert auth_from_json({"type": "bearer", "token": new}, stored) == BearerAuth(new)


def test_round_trips_and_refusals() -> None:
    for auth in (
        BasicAuth("bot", "pw"),
        BearerAuth("t"),
        OAuth2ClientCredentials("https://idp/token", "id", "secret", "a b", None),
        OAuth2ClientCredentials(
            "https://idp/token",
            "id",
            "secret",
            None,
            "https://api.example/",
            ClientAuthMethod.CLIENT_SECRET_POST,
        ),
    ):
        assert auth_from_json(auth_to_json(auth)) == auth
    with pytest.raises(AuthConfigError) as caught:
        auth_from_json({"type": "digest"})
    assert caught.value.field == "type"
    with pytest.raises(AuthConfigError) as caught:
        auth_from_json({"type": "oauth2", "tokenUrl": "https://idp", "clientId": "c"})
    assert caught.value.field == "clientSecret"


def test_token_request_uses_form_encoded_basic_client_credentials() -> None:
    headers, body = token_request(
        OAuth2ClientCredentials("https://idp/token", "my id", "s:e/c", "orders", "api")
    )
    raw = base64.b64decode(headers["Authorization"].removeprefix("Basic ")).decode()
    assert raw == "my%20id:s%3Ae%2Fc"
    assert parse_qs(body.decode()) == {
        "grant_type": ["client_credentials"],
        "scope": ["orders"],
        "audience": ["api"],
    }


def test_token_answers() -> None:
    grant = parse_token_response(b'{"access_token": "a", "token_type": "Bearer", "expires_in": 60}')
    assert (grant.access_token, grant.expires_in) == ("a", 60.0)
    assert parse_token_response(b'{"access_token": "a"}').expires_in is None
    for bad in (
        b"<html>",
        b'{"token_type": "bearer"}',
        b'{"access_token": "a", "token_type": "mac"}',
    ):
        with pytest.raises(ValueError, match="token"):
            parse_token_response(bad)


def test_plan_call_bodies_per_method() -> None:
    get = plan_call(CallSettings(method="GET"), "https://h/", b'{"a":1}', {}, None)
    assert (get.body, get.timeout_ms) == (b"", 5000)
    post = plan_call(CallSettings(), "https://h/", None, {}, 700)
    assert (post.body, post.timeout_ms) == (b"{}", 700)
    templated = CallSettings(url_template="https://h/{{ params.id }}")
    with pytest.raises(MissingParam):
        plan_call(templated, "https://h/", None, {}, None)


def test_client_secret_post_sends_the_credentials_in_the_form() -> None:
    oauth = OAuth2ClientCredentials(
        "https://idp/token", "my id", "s:e/c", "orders", None, ClientAuthMethod.CLIENT_SECRET_POST
    )
    headers, body = token_request(oauth)
    assert "Authorization" not in headers
    assert parse_qs(body.decode()) == {
        "grant_type": ["client_credentials"],
        "scope": ["orders"],
        "client_id": ["my id"],
        "client_secret": ["s:e/c"],
    }


def test_client_auth_method_defaults_to_basic() -> None:
    document = {"type": "oauth2", "tokenUrl": "https://idp", "clientId": "c", "clientSecret": "s"}
    parsed = auth_from_json(document)
    assert isinstance(parsed, OAuth2ClientCredentials)
    assert parsed.auth_method is ClientAuthMethod.CLIENT_SECRET_BASIC
    assert auth_to_json(parsed)["clientAuthMethod"] == "client_secret_basic"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("scope", "orders  read"),
        ("scope", " orders"),
        ("scope", 'say "hi"'),
        ("scope", "a\\b"),
        ("scope", "caf\u00e9"),
        ("scope", 7),
        ("audience", "https://api\n.example"),
        ("audience", "   "),
        ("audience", ["a"]),
        ("clientAuthMethod", "private_key_jwt"),
        ("clientAuthMethod", "CLIENT_SECRET_POST"),
    ],
)
def test_oauth2_settings_refused(field: str, value: object) -> None:
    document = {"type": "oauth2", "tokenUrl": "https://idp", "clientId": "c", "clientSecret": "s"}
    with pytest.raises(AuthConfigError) as caught:
        auth_from_json({**document, field: value})
    assert caught.value.field == field


@given(st.lists(st.from_regex(r"[!#-\[\]-~]+", fullmatch=True), min_size=1, max_size=4))
def test_rfc6749_scopes_are_accepted(tokens: list[str]) -> None:
    scope = " ".join(tokens)
    document = {"type": "oauth2", "tokenUrl": "https://idp", "clientId": "c", "clientSecret": "s"}
    parsed = auth_from_json({**document, "scope": scope})
    assert isinstance(parsed, OAuth2ClientCredentials)
    assert parsed.scope == scope
