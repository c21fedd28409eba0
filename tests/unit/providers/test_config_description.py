"""The providers' config description (what the console's source form is made from) agrees with
the parsers: every provider is described, a config of the described examples parses, and every
described field is one its parser reads (a field it did not read fails as unknown)."""

from __future__ import annotations

from typing import Any

import pytest

from hookd.core.providers import PROVIDERS, ConfigError, parse_verifier
from hookd.core.providers.config_description import CONFIG_FIELDS, ConfigField, fields_of


def _put(config: dict[str, Any], name: str, value: Any) -> None:
    *parents, last = name.split(".")
    for part in parents:
        config = config.setdefault(part, {})
    config[last] = list(value) if isinstance(value, tuple) else value


def _applies(field: ConfigField, config: dict[str, Any]) -> bool:
    if field.when is None:
        return True
    other, values = field.when
    return config.get(other) in values


def example_config(provider: str) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for field in fields_of(provider):  # a field's condition comes before it
        if field.example != "" and _applies(field, config):
            _put(config, field.name, field.example)
    return config


def test_every_provider_is_described() -> None:
    assert set(CONFIG_FIELDS) == set(PROVIDERS)


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_the_described_examples_parse(provider: str) -> None:
    parse_verifier(provider, example_config(provider))


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_every_required_field_is_required(provider: str) -> None:
    for field in fields_of(provider):
        if not field.required:
            continue
        config = example_config(provider)
        config.pop(field.name)
        with pytest.raises(ConfigError) as raised:
            parse_verifier(provider, config)
        assert raised.value.field.startswith(field.name.split(".")[0])


# Fields without an example, set with what their condition needs: each is read (not unknown).
UNEXAMPLED = {
    ("generic-webhook", "timestampHeader"): {"signedContent": "{timestamp}.{body}"},
    ("generic-webhook", "idHeader"): {"signedContent": "{id}.{body}"},
    ("generic-webhook", "username"): {"auth": "basic"},
    ("generic-webhook", "headerName"): {"auth": "api-key"},
    ("generic-webhook", "eventTypeJsonPath"): {},
    ("generic-webhook", "dedupJsonPath"): {},
    ("gitlab", "toleranceSeconds"): {"mode": "signing-token", "secret": "whsec_" + "A" * 32},
}
VALUES = {"eventTypeJsonPath": "$.type", "dedupJsonPath": "$.id", "toleranceSeconds": 60}


@pytest.mark.parametrize(("provider", "name"), sorted(UNEXAMPLED))
def test_fields_without_an_example_are_read(provider: str, name: str) -> None:
    config = {**example_config(provider), **UNEXAMPLED[(provider, name)]}
    if config.get("auth") in ("basic", "api-key"):
        for hmac_only in ("secretEncoding", "signatureHeader", "algorithm", "encoding"):
            config.pop(hmac_only, None)
        config.pop("signaturePrefix", None)
        config.pop("signedContent", None)
    _put(config, name, VALUES.get(name, "X-Header"))
    parse_verifier(provider, config)


def test_every_field_without_an_example_is_covered() -> None:
    missing = {
        (provider, field.name)
        for provider in CONFIG_FIELDS
        for field in CONFIG_FIELDS[provider]
        if field.example == ""
    }
    assert missing == set(UNEXAMPLED)
