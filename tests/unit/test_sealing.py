"""Sealed secrets (store.sealing) and API keys kept as digests (api.auth.ApiKeys)."""

from __future__ import annotations

import pickle

import pytest

from hookd.api.auth import ApiKeys
from hookd.core.access import ADMIN
from hookd.store import sealing


def keyring(*keys: str) -> sealing.Keyring:
    return sealing.Keyring([k for text in keys for k in sealing.parse_main_keys(text)])


def test_a_sealed_value_opens_only_with_its_key_and_column() -> None:
    key, other = sealing.new_main_key(), sealing.new_main_key()
    ring = keyring(key)
    token = ring.seal(b"whsec_abc", "endpoints.secret")
    assert token.startswith(f"hks1.{ring.primary_id}.") and b"whsec_abc" not in token.encode()
    assert ring.open(token, "endpoints.secret") == b"whsec_abc"
    assert sealing.sealed_key_id(token) == ring.primary_id
    with pytest.raises(sealing.SealError, match="not configured"):
        keyring(other).open(token, "endpoints.secret")
    with pytest.raises(sealing.SealError, match="does not open"):
        ring.open(token, "endpoints.headers")  # moved to another column
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(sealing.SealError):
        ring.open(tampered, "endpoints.secret")


def test_rotation_keys_the_first_seals_all_open() -> None:
    old, new = sealing.new_main_key(), sealing.new_main_key()
    before = keyring(old).seal(b"v", "p")
    both = keyring(f"{new},{old}")
    assert both.open(before, "p") == b"v"
    assert sealing.sealed_key_id(both.seal(b"v", "p")) == both.primary_id != keyring(old).primary_id


def test_plain_values_of_older_databases_read_as_they_are() -> None:
    sealing.install(keyring(sealing.new_main_key()))
    assert sealing.open_text("whsec_plain", "endpoints.secret") == "whsec_plain"
    assert sealing.open_json({"X-A": "b"}, "endpoints.headers") == {"X-A": "b"}
    assert sealing.open_bytes(b"\x00raw", "server_keys.key") == b"\x00raw"
    sealed = sealing.seal_json({"X-A": "b"}, "endpoints.headers")
    assert sealing.open_json(sealed, "endpoints.headers") == {"X-A": "b"}
    assert sealing.reseal({"X-A": "b"}, "json", "endpoints.headers") != {"X-A": "b"}


@pytest.mark.parametrize("text", ["", " , ", "short", "!" * 43])
def test_malformed_main_keys_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="main key"):
        sealing.parse_main_keys(text)


def test_main_keys_are_a_list_by_commas_or_lines() -> None:
    a, b = sealing.new_main_key(), sealing.new_main_key()
    assert sealing.parse_main_keys(f"{a}, {b},") == sealing.parse_main_keys(f"{a}\n{b}\n")


async def test_api_keys_keep_only_a_digest() -> None:
    keys = ApiKeys.admin("hk_secret-token")
    assert b"hk_secret-token" not in pickle.dumps(keys.__dict__)
    assert await keys.authorization(b"Bearer hk_secret-token") is ADMIN
    assert await keys.authorization(b"bearer  hk_secret-token ") is ADMIN
    assert await keys.authorization(b"Bearer hk_secret-tokeN") is None
    assert await keys.authorization(b"Basic hk_secret-token") is None
