"""What filters and transformations see of a body and a query, and URLs they leave alone."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from hookd.core.filters.match import json_or_text
from hookd.core.transformations import (
    TransformedRequest,
    TransformInput,
    parse_outcome,
    query_object,
)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_json_bodies_are_parsed(value: object) -> None:
    assert json_or_text(orjson.dumps(value)) == value


@given(st.binary())
def test_any_other_body_is_text_and_never_raises(body: bytes) -> None:
    try:
        expected = orjson.loads(body)
    except orjson.JSONDecodeError:
        expected = body.decode("utf-8", "replace")
    assert json_or_text(body) == expected


def test_query_object_keeps_repeated_names_as_arrays() -> None:
    assert query_object("a=1&b=2&a=3&c=") == {"a": ["1", "3"], "b": "2", "c": ""}


def test_an_unchanged_broker_destination_url_is_kept() -> None:
    original = TransformInput.from_http("POST", "redis://127.0.0.1:6379/0?stream=s", {}, b"{}")
    outcome = parse_outcome({"headers": {"x-a": "1"}}, original, body_unchanged=True)
    assert isinstance(outcome, TransformedRequest)
    assert outcome.url == "redis://127.0.0.1:6379/0?stream=s"
