"""URL passwords and source config secrets: masked in answers, kept when sent back masked."""

from __future__ import annotations

import pytest

from hookd.core.masking import (
    MaskedSecretError,
    config_secrets,
    has_password,
    kept_config,
    kept_url,
    mask_config,
    mask_url,
)

LONG = "s3cret-password-long-wxyz"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("amqp://guest:guest@mq:5672/?queue=q", "amqp://guest:****@mq:5672/?queue=q"),
        (f"redis://:{LONG}@r:6379/0?stream=s", "redis://:****wxyz@r:6379/0?stream=s"),
        ("sqs+https://AKID:p%40ss@sqs.eu-west-1.amazonaws.com/1/q", None),
        ("amqp://user@mq/?queue=q", "amqp://user@mq/?queue=q"),
        ("https://example.com/a@b?c=d@e", "https://example.com/a@b?c=d@e"),
        ("https://example.com/hook", "https://example.com/hook"),
    ],
)
def test_mask_url(url: str, masked: str | None) -> None:
    shown = mask_url(url)
    if masked is None:
        assert shown == "sqs+https://AKID:****@sqs.eu-west-1.amazonaws.com/1/q"
    else:
        assert shown == masked
    assert has_password(url) == (shown != url)


def test_kept_url() -> None:
    stored = f"amqp://app:{LONG}@mq/?queue=q"
    assert kept_url(mask_url(stored), stored) == stored
    assert kept_url(stored, stored) == stored
    new = "amqp://app:other@mq/?queue=q"
    assert kept_url(new, stored) == new
    with pytest.raises(MaskedSecretError):
        kept_url(mask_url(stored).replace("mq", "mq2"), stored)
    with pytest.raises(MaskedSecretError):
        kept_url("amqp://app:****@mq/?queue=q", None)


def test_config_masking() -> None:
    stored = {"secret": LONG, "previousSecret": "short", "toleranceSeconds": 300, "publicKey": "k"}
    shown = mask_config(stored)
    assert shown == {
        "secret": "****wxyz",
        "previousSecret": "****",
        "toleranceSeconds": 300,
        "publicKey": "k",
    }
    assert config_secrets(stored) == {"secret": LONG, "previousSecret": "short"}
    assert kept_config(shown, stored) == stored
    assert kept_config({"secret": "new"}, stored) == {"secret": "new"}
    with pytest.raises(MaskedSecretError) as error:
        kept_config({"secret": "****abcd"}, stored)
    assert error.value.args[1] == "secret"
    with pytest.raises(MaskedSecretError):
        kept_config({"verifyToken": "****"}, None)
