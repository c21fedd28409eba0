"""What an inbound request's record keeps: not the credentials it presented."""

from __future__ import annotations

from hookd.core.providers.redaction import (
    REDACTED,
    config_secrets,
    redact_headers,
    redact_text,
)


def test_the_secret_fields_of_a_source_config() -> None:
    config = {
        "auth": "hmac",
        "secret": "s3cr3t-value",
        "previousSecret": "old-s3cr3t",
        "previousSecretExpiresAt": "2030-01-01T00:00:00Z",
        "secretEncoding": "base64",
        "verifyToken": "verify-me",
        "headerName": "X-Api-Key",
    }
    assert config_secrets(config) == ("s3cr3t-value", "old-s3cr3t", "verify-me")


def test_credentials_are_redacted_and_the_rest_kept() -> None:
    secrets = ("glpat-123456",)
    pairs = (
        ("X-Gitlab-Token", "glpat-123456"),
        ("Authorization", "Basic Ym90OnB3"),
        ("X-Gitlab-Event", "Push Hook"),
    )
    assert redact_headers(pairs, secrets) == (
        ("X-Gitlab-Token", REDACTED),
        ("Authorization", REDACTED),
        ("X-Gitlab-Event", "Push Hook"),
    )
    plain = (("Content-Type", "application/json"),)
    assert redact_headers(plain, secrets) is plain
    query = "hub.mode=subscribe&hub.verify_token=glpat-123456&hub.challenge=1"
    assert (
        redact_text(query, secrets)
        == f"hub.mode=subscribe&hub.verify_token={REDACTED}&hub.challenge=1"
    )
