"""The sender's HTTP/1.1 request heads and URL parsing, read back with llhttp's request parser."""

from __future__ import annotations

import gzip
import zlib

import httptools
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookd.core.http_wire import decoded_body, fully_decoded, parse_http_target, request_head


class _Parsed:
    def __init__(self, data: bytes) -> None:
        self.headers: list[tuple[str, str]] = []
        self.url = b""
        self.complete = False
        self.parser = httptools.HttpRequestParser(self)
        self.parser.feed_data(data)

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode().lower(), value.decode("utf-8")))

    def on_message_complete(self) -> None:
        self.complete = True

    def get(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]


def _head(url: str, headers: dict[str, str], body: bytes = b"x", method: str = "POST") -> _Parsed:
    head = request_head(method, parse_http_target(url), headers, len(body), user_agent="hookd/1")
    return _Parsed(head + body)


def test_a_request_head_reads_back_with_defaults_and_framing() -> None:
    parsed = _head("http://example.com:8080/a/b?x=1&y=two", {"webhook-id": "msg_1"}, b"{}")
    assert parsed.complete
    assert parsed.parser.get_method() == b"POST"
    assert parsed.url == b"/a/b?x=1&y=two"
    assert parsed.get("host") == ["example.com:8080"]
    assert parsed.get("webhook-id") == ["msg_1"]
    assert parsed.get("user-agent") == ["hookd/1"]
    assert parsed.get("content-length") == ["2"]
    assert parsed.get("accept-encoding") == ["gzip, deflate"]


def test_the_callers_headers_win_and_framing_headers_are_the_senders() -> None:
    parsed = _head(
        "https://user:p%40ss@example.com/",
        {
            "USER-AGENT": "custom",
            "Authorization": "Bearer t",
            "Content-Length": "999",
            "Host": "evil.example",
            "Transfer-Encoding": "chunked",
        },
        b"abc",
    )
    assert parsed.get("user-agent") == ["custom"]
    assert parsed.get("authorization") == ["Bearer t"]
    assert parsed.get("content-length") == ["3"]
    assert parsed.get("host") == ["example.com"]
    assert parsed.get("transfer-encoding") == []


def test_credentials_in_the_url_become_basic_auth() -> None:
    parsed = _head("http://user:p%40ss@example.com/", {})
    assert parsed.get("authorization") == ["Basic dXNlcjpwQHNz"]  # user:p@ss


def test_default_ports_are_left_out_of_host_and_ipv6_is_bracketed() -> None:
    assert parse_http_target("https://example.com:443/").host_header == "example.com"
    assert parse_http_target("http://[::1]:8080/").host_header == "[::1]:8080"
    destination = parse_http_target("http://[::1]/")
    assert (destination.host, destination.port, destination.literal) == ("::1", 80, True)


def test_paths_are_percent_encoded_and_escapes_kept() -> None:
    parsed = _head("http://example.com/a b/ü?q=a b&r=%2F", {})
    assert parsed.url == b"/a%20b/%C3%BC?q=a%20b&r=%2F"


def test_unicode_host_names_go_out_as_punycode() -> None:
    assert parse_http_target("http://bücher.example/").host_header == "xn--bcher-kva.example"


def test_get_without_a_body_has_no_content_length() -> None:
    parsed = _head("http://example.com/", {}, b"", method="GET")
    assert parsed.get("content-length") == []
    assert _head("http://example.com/", {}, b"", method="POST").get("content-length") == ["0"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/", "scheme"),
        ("http://", "no host"),
        ("not a url", "scheme"),
        ("http://example.com:0/", "port"),
        ("http://h:99999/", "[Pp]ort"),
    ],
)
def test_bad_urls_raise_value_error(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_http_target(url)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("x-a", "one\r\nx-injected: 1"),
        ("x-a", "one\nx"),
        ("x-a", "nul\0"),
        ("x-a", "bell\x07"),
        ("bad name", "v"),
    ],
)
def test_headers_that_would_break_the_head_are_refused(name: str, value: str) -> None:
    with pytest.raises(ValueError, match="header"):
        request_head("POST", parse_http_target("http://e.com/"), {name: value}, 0, user_agent="u")


def test_methods_must_be_tokens() -> None:
    with pytest.raises(ValueError, match="method"):
        request_head("PO ST", parse_http_target("http://e.com/"), {}, 0, user_agent="u")


@given(
    st.dictionaries(
        st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,20}", fullmatch=True),
        st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
        max_size=8,
    )
)
def test_any_accepted_head_parses_back_to_exactly_the_given_headers(
    headers: dict[str, str],
) -> None:
    destination = parse_http_target("http://example.com/p")
    try:
        head = request_head("POST", destination, headers, 1, user_agent="u")
    except ValueError:
        controls = {chr(n) for n in range(32)} - {"\t"} | {"\x7f"}
        assert any(ch in controls for value in headers.values() for ch in value)
        return
    parsed = _Parsed(head + b"x")
    assert parsed.complete
    framing = {"host", "content-length", "transfer-encoding", "connection"}
    for lowered in {name.lower() for name in headers} - framing:
        # Whitespace around a value is not part of it (HTTP's OWS); parsers differ in how
        # much of it they trim.
        given = [v.strip(" \t") for k, v in headers.items() if k.lower() == lowered]
        assert [v.strip(" \t") for v in parsed.get(lowered)] == given
    assert len(parsed.get("host")) == 1 and len(parsed.get("content-length")) == 1


def test_gzip_and_deflate_bodies_are_decoded_within_the_limit() -> None:
    text = b"hello " * 1000
    assert decoded_body(gzip.compress(text), "gzip", 100_000) == text
    assert decoded_body(zlib.compress(text), "deflate", 100_000) == text
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    assert decoded_body(raw.compress(text) + raw.flush(), "deflate", 100_000) == text
    assert decoded_body(gzip.compress(text), "gzip", 10) == text[:10]
    assert decoded_body(b"not gzip", "gzip", 100) == b"not gzip"
    assert decoded_body(b"plain", None, 100) == b"plain"
    assert decoded_body(b"br bytes", "br", 100) == b"br bytes"


def test_fully_decoded_undoes_a_whole_coding_within_the_limit_or_says_none() -> None:
    body = b'{"n": 7}' * 10
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    deflated = raw_deflate.compress(body) + raw_deflate.flush()
    assert fully_decoded(gzip.compress(body), "gzip", 1000) == body
    assert fully_decoded(gzip.compress(body), " X-GZIP ", 1000) == body
    assert fully_decoded(zlib.compress(body), "deflate", 1000) == body
    assert fully_decoded(deflated, "deflate", 1000) == body
    assert fully_decoded(gzip.compress(body), "gzip", len(body) - 1) is None  # over the limit
    assert fully_decoded(gzip.compress(body)[:-9], "gzip", 1000) is None  # cut short
    assert fully_decoded(b"not gzip", "gzip", 1000) is None
    assert fully_decoded(gzip.compress(body), "br", 1000) is None
