"""What a provider declares beside its checks lives with it, and a request's body is parsed once."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from hookd.core.domain import StaticResponse
from hookd.core.providers import (
    PROVIDERS,
    describe_request,
    handshake_reply,
    verify_request,
)
from hookd.core.providers import (
    request as request_module,
)
from hookd.core.providers.model import JSON_OK, POST_ONLY
from hookd.core.providers.payload import json_object
from hookd.core.providers.registry import SOURCE_TYPES, provider_methods, provider_response
from tests.unit.providers.inbound_builders import NOW, inbound, source


def test_methods_and_default_answers_are_the_providers_own() -> None:
    assert PROVIDERS["meta"].methods == {"GET", "POST"}  # GET: the hub.challenge handshake
    assert PROVIDERS["generic-webhook"].methods == {"GET", "POST", "PUT", "PATCH", "DELETE"}
    # A request bin lists the common methods; the ingest door lets it take any at all.
    assert {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} == PROVIDERS["bin"].methods
    assert PROVIDERS["relay"].methods == PROVIDERS["bin"].methods  # hookd listen's relay, too
    assert provider_response("relay").status == 202  # stored: no listener was connected
    special = {"meta", "generic-webhook", "bin", "relay"}
    others = [p for name, p in PROVIDERS.items() if name not in special]
    assert all(p.methods == POST_ONLY for p in others)
    twiml = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    assert provider_response("twilio") == StaticResponse(200, "text/xml", twiml)
    assert (provider_response("discord").status, provider_response("discord").body) == (204, b"")
    assert provider_response("microsoft-graph").status == 202
    assert provider_response("stripe") == JSON_OK
    assert provider_methods("no-such-provider") == POST_ONLY
    assert provider_response("no-such-provider") == JSON_OK


def test_svix_signed_source_types_map_to_svix() -> None:
    assert SOURCE_TYPES["clerk"] == "svix" and SOURCE_TYPES["open-ai"] == "svix"
    assert not set(SOURCE_TYPES) & set(PROVIDERS)


@pytest.mark.parametrize("provider", ["stripe", "slack", "discord", "zoom", "meta"])
def test_a_request_body_is_parsed_once(provider: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Handshake, verification, event type and dedup key all read the body: one parse."""
    parses: list[bytes] = []

    def counting(body: bytes) -> dict[str, Any] | None:
        parses.append(body)
        return json_object(body)

    monkeypatch.setattr(request_module, "json_object", counting)
    body = orjson.dumps({"id": "evt_1", "type": "invoice.paid", "event_id": "Ev1", "event": "x"})
    config: dict[str, str] = {"secret": "whsec_c2VjcmV0", "verifyToken": "t"}
    if provider == "discord":
        config = {"publicKey": "0" * 64}
    elif provider != "meta":
        del config["verifyToken"]
    src = source(provider, **config)
    request = inbound(body, {"content-type": "application/json"})
    handshake_reply(src, request, NOW)
    verify_request(src, request, NOW)
    describe_request(src, request)
    assert parses == [body]
