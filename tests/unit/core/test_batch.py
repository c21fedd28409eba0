"""Batch webhooks: when a partial batch waits, and the body that carries the messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
from hypothesis import given
from hypothesis import strategies as st

from hookd.core.domain import Message
from hookd.core.payloads.batch import batch_body, wait_until

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@given(count=st.integers(0, 20), size=st.integers(2, 20), waited_ms=st.integers(0, 5000))
def test_partial_batch_waits_for_the_oldest_ones_deadline(
    count: int, size: int, waited_ms: int
) -> None:
    oldest = NOW - timedelta(milliseconds=waited_ms)
    until = wait_until(count, oldest, size, 1000, NOW)
    if count == 0 or count >= size or waited_ms >= 1000:
        assert until is None
    else:
        assert until == oldest + timedelta(milliseconds=1000) and until > NOW


def message(i: int, payload: bytes, content_type: str | None = None) -> Message:
    return Message(
        id=f"msg_{i}",
        app_id="app_1",
        event_type="a.b",
        event_id=None,
        channels=None,
        tags=None,
        payload=payload,
        created_at=NOW,
        content_type=content_type,
    )


@given(
    st.lists(
        st.dictionaries(st.text(max_size=5), st.integers(-(2**63), 2**63 - 1)),
        min_size=1,
        max_size=10,
    )
)
def test_body_is_an_array_of_messages_with_their_exact_payloads(
    payloads: list[dict[str, int]],
) -> None:
    messages = [message(i, orjson.dumps(p)) for i, p in enumerate(payloads)]
    body = orjson.loads(batch_body(messages))
    assert [item["id"] for item in body] == [m.id for m in messages]
    assert [item["payload"] for item in body] == payloads
    assert all(item["timestamp"] == "2026-11-23T12:00:00Z" for item in body)


def test_an_ingested_non_json_body_travels_as_text() -> None:
    body = orjson.loads(batch_body([message(1, b"a=1&b=2", "application/x-www-form-urlencoded")]))
    assert body[0]["payload"] == "a=1&b=2"
