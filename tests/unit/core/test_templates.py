"""Call templates: URL values percent-encoded, body values JSON-escaped, missing params named."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookd.core.calls.plan import check_body_template, check_url_template
from hookd.core.calls.templates import (
    MissingParam,
    TemplateError,
    check_syntax,
    referenced_params,
    render_body,
    render_url,
    sample_params,
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return "" if value is None else orjson.dumps(value).decode()


@given(st.text(), st.text())
def test_url_values_are_percent_encoded_and_cannot_change_the_url_shape(a: str, b: str) -> None:
    url = render_url(
        "https://api.example.com/users/{{ params.a }}/orders?q=$session.params.b", {"a": a, "b": b}
    )
    parts = urlsplit(url)
    assert parts.hostname == "api.example.com"
    assert parts.fragment == ""
    segments = parts.path.split("/")
    assert len(segments) == 4
    assert unquote(segments[2]) == a
    assert unquote(parts.query.removeprefix("q=")) == b


@given(json_values)
def test_body_values_are_json_escaped_in_strings_and_json_outside(value: Any) -> None:
    body = render_body(
        '{"quoted": "id-$session.params.v!", "raw": {{ params.v }}, "x": "\\"{{ params.v }}"}',
        {"v": value},
    )
    parsed = orjson.loads(body)
    assert parsed["quoted"] == f"id-{as_text(value)}!"
    assert parsed["raw"] == value
    assert parsed["x"] == '"' + as_text(value)


@given(st.text(alphabet=st.characters(blacklist_characters="{$")))
def test_text_without_references_is_left_alone(text: str) -> None:
    assert render_url(text, {}) == text
    assert render_body(text, {}) == text


@given(st.dictionaries(st.sampled_from(["a", "b", "c"]), st.text(), max_size=3))
def test_a_missing_param_is_named(params: dict[str, str]) -> None:
    template = "https://h/{{ params.a }}/$session.params.b/{{params.c}}"
    missing = [name for name in referenced_params(template) if name not in params]
    if missing:
        with pytest.raises(MissingParam) as caught:
            render_url(template, params)
        assert caught.value.name == missing[0]
    else:
        render_url(template, params)


def test_nested_params_and_both_spellings() -> None:
    params = {"user": {"id": 7, "name": "Zoë"}, "user_id": "a/b"}
    assert render_url("https://h/$session.params.user_id/{{ params.user.id }}", params) == (
        "https://h/a%2Fb/7"
    )
    assert orjson.loads(render_body('{"n": "$session.params.user.name"}', params)) == {"n": "Zoë"}
    check_syntax("Hi {{ params.user.id }}, $session.params.user_id.")  # a full stop ends it
    assert referenced_params("{{ params.user.id }} $session.params.user_id.") == [
        "user.id",
        "user_id",
    ]
    with pytest.raises(MissingParam) as caught:
        render_url("https://h/{{ params.user.email }}", params)
    assert caught.value.name == "user.email"


@pytest.mark.parametrize(
    "template",
    ["https://h/{{ user_id }}", "https://h/{{ params. }}", "https://h/$session.user", "$session"],
)
def test_expressions_that_are_not_references_are_refused(template: str) -> None:
    with pytest.raises(TemplateError):
        check_syntax(template)


def test_saved_templates_are_checked_by_rendering_them() -> None:
    check_url_template("https://api.example.com/{{ params.id }}")
    check_body_template('{"id": "$session.params.id", "n": {{ params.n }}}')
    for bad_url in ("ftp://h/{{ params.id }}", "{{ params.id }}"):
        with pytest.raises(TemplateError):
            check_url_template(bad_url)
    for bad_body in ('{"id": $session.params.id', '["{{ params.id }}"]'):
        with pytest.raises(TemplateError):
            check_body_template(bad_body)


fragments = st.sampled_from(
    ["{{ params.a }}", "$session.params.b.c", "{{", "}}", "$session", ".", "/", '"', "x", "{{ a }}"]
)


@given(st.lists(fragments | st.text(max_size=3), max_size=8).map("".join))
def test_a_template_that_passes_the_syntax_check_renders_with_sample_params(template: str) -> None:
    try:
        check_syntax(template)
    except TemplateError:
        return
    render_url(template, sample_params(template))
    render_body(template, sample_params(template))
