"""The rules of an alert channel's configuration (core.alerts.channels)."""

from __future__ import annotations

import pytest

from hookd.core.alerts import channels as rules
from hookd.core.alerts.channels import ChannelConfigError
from hookd.core.ssrf import parse_networks

LOOPBACK = parse_networks(["127.0.0.0/8"])
SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"


def test_a_secret_url_is_masked_to_its_origin_and_last_four_characters() -> None:
    assert rules.mask_secret_url(SLACK_URL) == "https://hooks.slack.com/****XXXX"
    assert rules.mask_secret_url("http://127.0.0.1:8080/hook") == "http://127.0.0.1:8080/****"
    assert rules.mask_secret_url("https://[::1]:9/a") == "https://[::1]:9/****"


def test_a_masked_url_sent_back_keeps_the_stored_one() -> None:
    masked = rules.mask_secret_url(SLACK_URL)
    assert rules.kept_secret_url(masked, SLACK_URL) == SLACK_URL
    assert rules.kept_secret_url(SLACK_URL, None) == SLACK_URL
    with pytest.raises(ChannelConfigError, match="masked"):
        rules.kept_secret_url("https://hooks.slack.com/****abcd", SLACK_URL)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://hooks.slack.com/services/x", "validation"),  # the credential in the clear
        ("ftp://hooks.slack.com/x", "validation"),
        ("https://user:pw@hooks.slack.com/x", "validation"),
        ("https:///x", "validation"),
        ("https://hooks.slack.com/a b", "validation"),
        ("https://hooks.slack.com:0/x", "validation"),
        ("https://10.0.0.1/x", "url_not_allowed"),
        ("https://169.254.169.254/latest", "url_not_allowed"),
        ("http://127.0.0.1/x", "validation"),  # http only to an allowed network (none here)
        (12, "validation"),
        ("", "validation"),
    ],
)
def test_bad_posted_urls_are_refused(url: object, code: str) -> None:
    with pytest.raises(ChannelConfigError) as caught:
        rules.check_posted_url(url, ())
    assert caught.value.field == "url" and caught.value.code == code


def test_http_is_taken_only_for_an_allowed_literal_address() -> None:
    assert rules.check_posted_url("http://127.0.0.1:9/x", LOOPBACK) == "http://127.0.0.1:9/x"
    with pytest.raises(ChannelConfigError):
        rules.check_posted_url("http://localhost:9/x", LOOPBACK)
    assert rules.check_posted_url(SLACK_URL, ()) == SLACK_URL


def test_webhook_urls_follow_the_endpoint_rules() -> None:
    assert rules.check_webhook_url("http://example.com/hook", ()) == "http://example.com/hook"
    with pytest.raises(ChannelConfigError) as caught:
        rules.check_webhook_url("http://127.0.0.1/hook", ())
    assert caught.value.code == "url_not_allowed"
    with pytest.raises(ChannelConfigError):
        rules.check_webhook_url("redis://example.com/0", ())


def test_recipients() -> None:
    assert rules.check_recipients(["a@example.com", "a@example.com", "b@x.io"]) == [
        "a@example.com",
        "b@x.io",
    ]
    for bad in (
        [],
        "a@example.com",
        ["not an address"],
        ["Name <a@example.com>"],
        ["a@example.com\r\nBcc: b@example.com"],
        ["@example.com"],
        ["a@"],
        [7],
        [f"a{i}@example.com" for i in range(51)],
    ):
        with pytest.raises(ChannelConfigError) as caught:
            rules.check_recipients(bad)
        assert caught.value.field == "to"


def test_unknown_config_fields_and_types_are_refused() -> None:
    rules.check_fields("slack", {"url": SLACK_URL})
    with pytest.raises(ChannelConfigError) as caught:
        rules.check_fields("slack", {"url": SLACK_URL, "channel": "#ops"})
    assert caught.value.field == "channel"
    with pytest.raises(ChannelConfigError) as caught:
        rules.check_fields("pager", {})
    assert caught.value.field == "type"
