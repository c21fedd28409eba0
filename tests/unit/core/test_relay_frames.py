"""hookd listen's frames (core.relay_frames): every frame survives encode and decode, bodies
byte for byte, and what is not a frame is a FrameError naming the problem."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hookd.core.relay_frames import (
    Frame,
    FrameError,
    Ready,
    RelayedAnswer,
    RelayedRequest,
    RelayFailure,
    decode,
    encode,
)

TEXT = st.text(max_size=40)
PAIRS = st.lists(st.tuples(TEXT, TEXT), max_size=5).map(tuple)


@given(
    st.one_of(
        st.builds(Ready, TEXT, TEXT),
        st.builds(
            RelayedRequest,
            TEXT,
            TEXT,
            TEXT,
            TEXT,
            PAIRS,
            st.binary(max_size=200),
            st.none() | TEXT,
            st.none() | TEXT,
        ),
        st.builds(
            RelayedAnswer,
            TEXT,
            st.integers(100, 599),
            PAIRS,
            st.binary(max_size=200),
            st.integers(0, 10**6),
        ),
        st.builds(RelayFailure, TEXT, st.text(max_size=1000)),
    )
)
def test_every_frame_round_trips(frame: Frame) -> None:
    assert decode(encode(frame)) == frame


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[]", "one JSON object"),
        ("not json", "one JSON object"),
        ('{"type": "hello"}', "unknown frame type"),
        ('{"type": "answer", "id": "1", "status": 99, "headers": [], "body": ""}', "status"),
        ('{"type": "answer", "id": "1", "status": true, "headers": [], "body": ""}', "status"),
        (
            '{"type": "answer", "id": "1", "status": 200, "headers": [["a"]], "body": "",'
            ' "durationMs": 1}',
            "headers",
        ),
        (
            '{"type": "answer", "id": "1", "status": 200, "headers": [], "body": "!!",'
            ' "durationMs": 1}',
            "base64",
        ),
        ('{"type": "failure", "id": 1, "detail": "x"}', "'id'"),
    ],
)
def test_what_is_not_a_frame(text: str, problem: str) -> None:
    with pytest.raises(FrameError, match=problem):
        decode(text)
