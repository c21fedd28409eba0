"""Thin links, payload version selection and schema checks: pure, with hypothesis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookd.core.domain import Endpoint, Message
from hookd.core.payloads.links import LinkError, PayloadLink, sign_link, verify_link
from hookd.core.payloads.schemas import message_version, schema_violation
from hookd.core.payloads.shapes import LinkSigning, payload_of_version, selected_version, shape

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEF0123456789_", min_size=1, max_size=40)
keys = st.binary(min_size=16, max_size=64)
versions = st.integers(min_value=1, max_value=2**31 - 1)
lifetimes = st.integers(min_value=1, max_value=30 * 24 * 3600)


@given(keys, ids, ids, versions, lifetimes)
def test_a_signed_link_verifies_until_it_expires(
    key: bytes, msg_id: str, endpoint_id: str, version: int, seconds: int
) -> None:
    link = sign_link(key, msg_id, endpoint_id, version, NOW + timedelta(seconds=seconds))
    verify_link(key, link, NOW)
    verify_link(key, link, NOW + timedelta(seconds=seconds - 1))
    with pytest.raises(LinkError) as exc:
        verify_link(key, link, NOW + timedelta(seconds=seconds))
    assert exc.value.code == "link_expired"


@given(keys, keys, ids, ids, versions, st.sampled_from(["msg", "ep", "version", "expires", "key"]))
def test_any_altered_field_or_other_key_is_refused(
    key: bytes, other_key: bytes, msg_id: str, endpoint_id: str, version: int, change: str
) -> None:
    link = sign_link(key, msg_id, endpoint_id, version, NOW + timedelta(hours=1))
    altered = {
        "msg": PayloadLink(msg_id + "x", endpoint_id, version, link.expires, link.signature),
        "ep": PayloadLink(msg_id, endpoint_id + "x", version, link.expires, link.signature),
        "version": PayloadLink(msg_id, endpoint_id, version + 1, link.expires, link.signature),
        "expires": PayloadLink(msg_id, endpoint_id, version, link.expires + 1, link.signature),
        "key": link,
    }[change]
    verifying_key = other_key if change == "key" else key
    if change == "key" and other_key == key:
        return
    with pytest.raises(LinkError) as exc:
        verify_link(verifying_key, altered, NOW)
    assert exc.value.code == "invalid_link"


def test_an_expired_forged_link_is_reported_as_forged() -> None:
    """The signature is checked first, so an attacker learns nothing from the expiry."""
    link = sign_link(b"k" * 32, "msg_1", "ep_1", 1, NOW - timedelta(hours=1))
    with pytest.raises(LinkError) as exc:
        verify_link(b"j" * 32, link, NOW)
    assert exc.value.code == "invalid_link"


@given(keys, ids, ids, versions)
def test_the_url_carries_every_field_back(
    key: bytes, msg_id: str, endpoint_id: str, version: int
) -> None:
    link = sign_link(key, msg_id, endpoint_id, version, NOW + timedelta(hours=1))
    url = urlsplit(link.url("https://hooks.example.com"))
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert url.path == f"/api/v1/payload/{msg_id}"
    parsed = PayloadLink(
        msg_id, query["endpoint"], int(query["version"]), int(query["expires"]), query["signature"]
    )
    assert parsed == link
    verify_link(key, parsed, NOW)


def _message(**changes: object) -> Message:
    fields: dict[str, object] = {
        "id": "msg_1",
        "app_id": "app_1",
        "event_type": "invoice.paid",
        "event_id": None,
        "channels": None,
        "tags": None,
        "payload": b'{"v":3}',
        "created_at": NOW,
        "version": 3,
        "payload_versions": {1: b'{"v":1}', 2: b'{"v":2}'},
    }
    return Message(**{**fields, **changes})  # type: ignore[arg-type]


def _endpoint(version: int | None, *, thin: bool = False) -> Endpoint:
    return Endpoint(
        id="ep_1",
        app_id="app_1",
        uid=None,
        url="https://example.com/hook",
        description="",
        version=version,
        disabled=False,
        filter_types=None,
        channels=None,
        rate_limit=None,
        metadata={},
        headers={},
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        old_secrets=(),
        created_at=NOW,
        updated_at=NOW,
        thin=thin,
    )


LINKS = LinkSigning(b"k" * 32, "https://hooks.example.com", NOW + timedelta(hours=1))


@pytest.mark.parametrize(
    ("pinned", "expected"), [(None, 3), (1, 1), (2, 2), (3, 3), (4, 3), (7, 3)]
)
def test_a_pinned_endpoint_gets_its_version_when_provided_else_the_latest(
    pinned: int | None, expected: int
) -> None:
    message = _message()
    shaped = shape(message, _endpoint(pinned), LINKS)
    assert shaped.version == expected == selected_version(message, pinned)
    assert shaped.body == payload_of_version(message, expected)
    assert orjson.loads(shaped.body) == {"v": expected}


@given(
    st.dictionaries(st.integers(1, 9), st.binary(min_size=1, max_size=8), max_size=4),
    st.one_of(st.none(), st.integers(1, 12)),
)
def test_an_endpoint_gets_its_pin_if_provided_else_the_latest(
    others: dict[int, bytes], pinned: int | None
) -> None:
    message = _message(version=10, payload=b"latest", payload_versions=others or None)
    shaped = shape(message, _endpoint(pinned), LINKS)
    expected = pinned if pinned in others else 10
    assert shaped.version == expected
    assert shaped.body == others.get(expected, b"latest")


def test_a_thin_endpoint_gets_a_link_to_its_version() -> None:
    message = _message(content_type="text/plain", headers={"X-Original": "1"})
    shaped = shape(message, _endpoint(2, thin=True), LINKS)
    body = orjson.loads(shaped.body)
    assert set(body) == {"id", "type", "timestamp", "url"}
    assert body["id"] == "msg_1" and body["type"] == "invoice.paid"
    assert body["timestamp"] == "2026-11-23T12:00:00Z"
    assert shaped.version == 2
    assert shaped.content_type == "application/json" and shaped.forwarded is None
    query = parse_qs(urlsplit(body["url"]).query)
    assert query["version"] == ["2"] and query["endpoint"] == ["ep_1"]


@given(
    st.one_of(st.none(), versions),
    st.dictionaries(st.integers(1, 50), st.just(b"{}"), max_size=4),
    st.dictionaries(st.integers(1, 50).map(str), st.just({"type": "object"}), max_size=4).map(
        lambda schemas: schemas or None
    ),
)
def test_the_message_version_never_collides_unless_declared(
    declared: int | None, others: dict[int, bytes], schemas: dict[str, object] | None
) -> None:
    version = message_version(declared, others, schemas)
    if declared is not None:
        assert version == declared
    else:
        assert version not in others and version >= 1
        assert all(version > other for other in others)
        if schemas and not others:
            assert version == max(int(key) for key in schemas)


def test_schema_violation_names_the_path_and_the_reason() -> None:
    schema = {
        "type": "object",
        "required": ["amount"],
        "properties": {"items": {"type": "array", "items": {"type": "integer"}}},
    }
    assert schema_violation(schema, {"amount": 1, "items": [1, 2]}) is None
    missing = schema_violation(schema, {"items": []})
    assert missing is not None and missing.path == () and "'amount'" in missing.message
    wrong = schema_violation(schema, {"amount": 1, "items": [1, "two"]})
    assert wrong is not None and wrong.path == ("items", 1)
    assert wrong.json_path == "$.items[1]" and "integer" in wrong.message
