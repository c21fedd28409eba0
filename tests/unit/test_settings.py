"""Settings parsed from HOOKD_* variables: the forms a user may write, and the refusals."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from hookd.config import AUTO_PROCESSES_MAX, Settings


@pytest.mark.parametrize("written", ["auto", "AUTO", " auto "])
def test_delivery_processes_auto_is_one_per_core_within_the_cap(
    written: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOKD_DELIVERY_PROCESSES", written)
    assert Settings().delivery_processes == min(os.cpu_count() or 1, AUTO_PROCESSES_MAX)


def test_delivery_processes_takes_a_number_and_defaults_to_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HOOKD_DELIVERY_PROCESSES", raising=False)
    assert Settings().delivery_processes == 1
    monkeypatch.setenv("HOOKD_DELIVERY_PROCESSES", "3")
    assert Settings().delivery_processes == 3


@pytest.mark.parametrize("written", ["0", "65", "many", "-1"])
def test_delivery_processes_refuses_what_is_not_a_count(
    written: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOKD_DELIVERY_PROCESSES", written)
    with pytest.raises(ValidationError, match="delivery_processes"):
        Settings()


def test_trusted_proxies_default_to_none_and_take_cidrs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOOKD_TRUSTED_PROXIES", raising=False)
    assert Settings().trusted_proxies == ()
    monkeypatch.setenv("HOOKD_TRUSTED_PROXIES", "10.0.0.1/8, ::1/128,127.0.0.1")
    assert [str(n) for n in Settings().proxy_networks] == ["10.0.0.0/8", "::1/128", "127.0.0.1/32"]
    monkeypatch.setenv("HOOKD_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal")
    with pytest.raises(ValidationError, match="trusted_proxies"):
        Settings()
