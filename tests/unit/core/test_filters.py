"""JSON operator filters: semantics, validation errors, and properties over arbitrary JSON."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookd.core.filters.match import (
    MAX_DEPTH,
    FilterError,
    compile_filter,
    json_equal,
    message_view,
    request_view,
)

ORDER = request_view(
    body={
        "type": "order.created",
        "amount": 42.5,
        "count": 3,
        "paid": True,
        "note": None,
        "tags": ["vip", "eu"],
        "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}],
        "customer": {"email": "ada@example.com", "country": "DE"},
    },
    headers={"X-Shop-Topic": "orders/create", "Content-Type": "application/json"},
    query={"source": "web"},
    path="/in/shop",
)


def matches(document: dict[str, Any], view: object = ORDER) -> bool:
    return compile_filter(document).matches(view)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({}, True),
        ({"body": {"type": "order.created"}}, True),
        ({"body": {"type": "order.updated"}}, False),
        ({"body": {"customer": {"country": "DE"}}}, True),
        ({"body": {"customer": {"country": "FR"}}}, False),
        ({"headers": {"x-shop-topic": "orders/create"}}, True),
        ({"query": {"source": "web"}, "path": "/in/shop"}, True),
        ({"body": {"missing": 1}}, False),
        ({"body": {"note": None}}, True),
        ({"body": {"paid": 1}}, False),  # true is not 1 in JSON
        ({"body": {"count": 3.0}}, True),  # numbers compare numerically
        # Hookdeck's array semantics: a value or an array is "contained" in the data array.
        ({"body": {"tags": "vip"}}, True),
        ({"body": {"tags": ["eu", "vip"]}}, True),
        ({"body": {"tags": ["vip", "us"]}}, False),
        ({"body": {"tags": []}}, True),
        ({"body": {"items": {"sku": "B-7"}}}, True),
        ({"body": {"items": [{"sku": "B-7", "qty": 1}]}}, True),
        ({"body": {"items": {"sku": "B-7", "qty": 2}}}, False),  # one element must match all
        ({"body": {"customer": {}}}, True),
        ({"body": {"type": {}}}, False),  # {} matches any object, not a string
    ],
)
def test_structural_matching(document: dict[str, Any], expected: bool) -> None:
    assert matches(document) is expected


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"body": {"type": {"$eq": "order.created"}}}, True),
        ({"body": {"tags": {"$eq": ["vip", "eu"]}}}, True),
        ({"body": {"tags": {"$eq": ["eu", "vip"]}}}, False),  # $eq is exact, order included
        ({"body": {"type": {"$neq": "order.updated"}}}, True),
        ({"body": {"missing": {"$neq": 1}}}, True),
        ({"body": {"amount": {"$gt": 42}}}, True),
        ({"body": {"amount": {"$gte": 42.5, "$lte": 42.5}}}, True),
        ({"body": {"amount": {"$lt": 10}}}, False),
        ({"body": {"amount": {"$gt": "1"}}}, False),  # different types: false, never an error
        ({"body": {"type": {"$gt": "order.a", "$lt": "order.d"}}}, True),  # lexical
        ({"body": {"paid": {"$gt": 0}}}, False),  # booleans are not numbers
        ({"body": {"customer": {"country": {"$in": ["DE", "AT"]}}}}, True),
        ({"body": {"tags": {"$in": ["us", "eu"]}}}, True),  # any element
        ({"body": {"tags": {"$nin": ["us", "ca"]}}}, True),
        ({"body": {"customer": {"email": {"$startsWith": "ada@"}}}}, True),
        ({"body": {"customer": {"email": {"$endsWith": "@example.org"}}}}, False),
        ({"body": {"customer": {"email": {"$contains": "@exa"}}}}, True),
        ({"body": {"tags": {"$contains": "eu"}}}, True),
        ({"body": {"count": {"$contains": 3}}}, False),
        ({"body": {"note": {"$exist": True}}}, True),  # null is present
        ({"body": {"missing": {"$exist": False}}}, True),
        ({"body": {"type": {"$exist": False}}}, False),
        ({"body": {"customer": {"email": {"$regex": r"^[a-z]+@example\.(com|org)$"}}}}, True),
        ({"body": {"type": {"$regex": "(?i)ORDER"}}}, True),
        ({"body": {"count": {"$regex": "3"}}}, False),
        ({"body": {"items": {"$size": 2}}}, True),
        (
            {"$and": [{"body": {"paid": True}}, {"headers": {"x-shop-topic": "orders/create"}}]},
            True,
        ),
        ({"$or": [{"body": {"paid": False}}, {"body": {"count": {"$gte": 3}}}]}, True),
        ({"$not": {"body": {"paid": True}}}, False),
        ({"body": {"amount": {"$or": [{"$lt": 0}, {"$gt": 40}]}}}, True),
        ({"body": {"type": {"$not": {"$startsWith": "invoice."}}}}, True),
    ],
)
def test_operators(document: dict[str, Any], expected: bool) -> None:
    assert matches(document) is expected


def test_catastrophic_pattern_runs_in_linear_time() -> None:
    evil = compile_filter({"body": {"$regex": "(a+)+$"}})
    assert not evil.matches({"body": "a" * 100_000 + "!"})


def test_message_view_exposes_event_type_and_channels() -> None:
    view = message_view(payload={"id": 1}, event_type="invoice.paid", channels=["eu"])
    assert matches({"event_type": {"$startsWith": "invoice."}, "channels": "eu"}, view)
    assert matches({"body": {"id": 1}, "headers": {}}, view)


@pytest.mark.parametrize(
    ("document", "path", "words"),
    [
        ({"body": {"$like": 1}}, ("body", "$like"), "unknown operator"),
        ({"body": {"amount": {"$gt": [1]}}}, ("body", "amount", "$gt"), "number or a string"),
        ({"body": {"tags": [{"$regex": "(a"}]}}, ("body", "tags", 0, "$regex"), "invalid regular"),
        ({"body": {"$regex": r"(\w)\1"}}, ("body", "$regex"), "invalid regular"),
        ({"body": {"$regex": "a" * 201}}, ("body", "$regex"), "longer than 200"),
        ({"$or": []}, ("$or",), "non-empty array"),
        ({"$and": {"a": 1}}, ("$and",), "non-empty array"),
        ({"a": {"$exist": "yes"}}, ("a", "$exist"), "true or false"),
        ({"a": {"$in": "DE"}}, ("a", "$in"), "array of values"),
        ({"a": {"$startsWith": 1}}, ("a", "$startsWith"), "expects a string"),
        ({"a": {"$size": -1}}, ("a", "$size"), "non-negative integer"),
        ({"a": float("nan")}, ("a",), "finite"),
        ({"a": {1, 2}}, ("a",), "not a JSON value"),
    ],
)
def test_invalid_documents_name_the_spot(
    document: dict[str, Any], path: tuple[str | int, ...], words: str
) -> None:
    with pytest.raises(FilterError) as caught:
        compile_filter(document)
    assert caught.value.path == path
    assert words in caught.value.message


def test_size_and_depth_are_bounded() -> None:
    deep: dict[str, Any] = {"a": 1}
    for _ in range(MAX_DEPTH + 1):
        deep = {"a": deep}
    with pytest.raises(FilterError, match="deeper"):
        compile_filter(deep)
    with pytest.raises(FilterError, match="more than"):
        compile_filter({"a": {"$in": list(range(2_000))}})
    with pytest.raises(FilterError, match="JSON object"):
        compile_filter([1])  # type: ignore[arg-type]


def test_error_message_carries_a_readable_location() -> None:
    with pytest.raises(FilterError, match=r"^body\.items\[1\]\.\$gt: "):
        compile_filter({"body": {"items": [1, {"$gt": None}]}})


def test_deep_data_does_not_overflow_equality() -> None:
    deep: Any = 1
    for _ in range(50_000):
        deep = [deep]
    assert json_equal(deep, deep)
    assert not compile_filter({"body": {"$eq": [1]}}).matches({"body": deep})


# --- properties -------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
keys = st.text(max_size=8).filter(lambda key: not key.startswith("$"))
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=20,
)
# Any text at all, lone surrogates included, as a lenient JSON parser may hand over.
odd_text = st.text(alphabet=st.characters(codec=None, categories=None), max_size=10)
data = st.recursive(
    scalars | odd_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)


def operator_filters(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.builds(
            lambda op, v: {op: v}, st.sampled_from(["$eq", "$neq", "$contains"]), json_values
        ),
        st.builds(
            lambda op, v: {op: v},
            st.sampled_from(["$gt", "$gte", "$lt", "$lte"]),
            st.integers() | st.text(max_size=5),
        ),
        st.builds(lambda op, v: {op: v}, st.sampled_from(["$in", "$nin"]), st.lists(scalars)),
        st.builds(
            lambda op, v: {op: v},
            st.sampled_from(["$startsWith", "$endsWith", "$contains"]),
            st.text(max_size=5),
        ),
        st.builds(lambda v: {"$exist": v}, st.booleans()),
        st.builds(lambda v: {"$size": v}, st.integers(0, 5)),
        st.sampled_from(["^a", "b$", "[0-9]+", "(a|b)*c", "(?i)x"]).map(lambda p: {"$regex": p}),
        st.builds(lambda f: {"$not": f}, children),
        st.builds(lambda fs: {"$and": fs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda fs: {"$or": fs}, st.lists(children, min_size=1, max_size=3)),
        st.dictionaries(keys, children, max_size=3),
        st.lists(children, max_size=3),
    )


filters = st.recursive(scalars, operator_filters, max_leaves=12).map(
    lambda node: node if isinstance(node, dict) else {"value": node}
)


@given(document=filters, value=data)
def test_matching_arbitrary_data_never_raises(document: dict[str, Any], value: Any) -> None:
    compiled = compile_filter(document)
    assert compiled.matches(value) in (True, False)
    assert compiled.matches({"value": value, "body": value}) in (True, False)


@given(document=filters, value=data)
def test_not_is_negation(document: dict[str, Any], value: Any) -> None:
    view = {"value": value}
    assert compile_filter({"$not": document}).matches(view) is not compile_filter(document).matches(
        view
    )


@given(document=filters, value=data)
def test_and_of_one_filter_is_the_filter(document: dict[str, Any], value: Any) -> None:
    view = {"value": value}
    assert compile_filter({"$and": [document]}).matches(view) is compile_filter(document).matches(
        view
    )


@given(document=st.dictionaries(keys, json_values, max_size=5))
def test_a_document_matches_a_filter_made_of_its_own_values(document: dict[str, Any]) -> None:
    assert compile_filter(document).matches(document)
    for key in document:
        partial = {key: document[key]}
        assert compile_filter(partial).matches(document)
        assert compile_filter({key: {"$eq": document[key]}}).matches(document)
