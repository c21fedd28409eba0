"""Response mapping: JSONPath outputs over a call's JSON answer."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookd.core.calls.plan import read_response
from hookd.core.calls.response_mapping import MappingError, apply_mapping, check_mapping


def test_outputs_take_one_value_a_list_or_null() -> None:
    document = {"order": {"status": "shipped", "items": [{"sku": "a"}, {"sku": "b"}]}}
    mapping = {"status": "$.order.status", "skus": "$.order.items[*].sku", "eta": "$.order.eta"}
    assert apply_mapping(mapping, document) == {
        "status": "shipped",
        "skus": ["a", "b"],
        "eta": None,
    }


def test_filters_work_but_regex_functions_are_refused() -> None:
    check_mapping({"cheap": "$.items[?@.price < 10].name"})
    with pytest.raises(MappingError) as caught:
        check_mapping({"x": '$.items[?match(@.name, "a.*")]'})
    assert caught.value.name == "x"


@pytest.mark.parametrize(
    ("mapping", "name"),
    [
        ({"status": "$.order["}, "status"),
        ({"s": "order.status"}, "s"),
        ({"bad name": "$.a"}, "bad name"),
    ],
)
def test_bad_mappings_name_the_output(mapping: dict[str, str], name: str) -> None:
    with pytest.raises(MappingError) as caught:
        check_mapping(mapping)
    assert caught.value.name == name


@given(st.binary())
def test_any_response_body_reads_without_error(body: bytes) -> None:
    response = read_response(body, {"a": "$.a"})
    assert set(response.mapped) == {"a"}


@given(st.dictionaries(st.text(min_size=1), st.integers() | st.text(), max_size=5))
def test_mapping_a_key_gives_its_value(document: dict[str, Any]) -> None:
    for key, value in document.items():
        quoted = orjson.dumps(key).decode()  # a JSON string is an RFC 9535 string literal
        assert apply_mapping({"v": f"$[{quoted}]"}, document) == {"v": value}
