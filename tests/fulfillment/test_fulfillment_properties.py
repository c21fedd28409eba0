"""Whatever body arrives, the app answers without a server error."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hookd.fulfillment import Fulfillment, Reply

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)

# Bodies shaped like each platform's request, with arbitrary values in the known fields,
# so the parsers (not only detection) see hostile input.
PLATFORM_KEYS = [
    ["queryResult", "responseId", "session"],
    ["fulfillmentInfo", "sessionInfo", "detectIntentResponseId", "intentInfo", "pageInfo"],
    ["sessionState", "interpretations", "invocationSource", "sessionId", "requestAttributes"],
    ["next_action", "tracker", "sender_id", "domain"],
]
platform_like = st.sampled_from(PLATFORM_KEYS).flatmap(
    lambda keys: st.fixed_dictionaries({key: json_values for key in keys})
)


def dumps(value: Any) -> bytes:
    # The stdlib writes what orjson refuses (huge integers, Infinity): the app must cope.
    return json.dumps(value).encode()


bodies = st.one_of(
    json_values.map(dumps),
    platform_like.map(dumps),
    st.binary(max_size=64),
)


def echo_app() -> Fulfillment:
    app = Fulfillment(max_body_bytes=4096)

    @app.fallback
    def anything(request: Any) -> Reply:
        return Reply(text="ok", params={"seen": True})

    @app.action("")
    def empty(request: Any) -> Reply:
        return Reply()

    return app


APP = echo_app()


async def post(body: bytes, encoding: str | None) -> httpx.Response:
    headers = {"content-encoding": encoding} if encoding else {}
    transport = httpx.ASGITransport(app=APP)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.post("/webhook", content=body, headers=headers)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, encoding=st.sampled_from([None, None, None, "deflate", "gzip"]))
async def test_arbitrary_bodies_never_get_a_server_error(body: bytes, encoding: str | None) -> None:
    response = await post(body, encoding)
    assert response.status_code < 500
    assert isinstance(response.json(), dict)
