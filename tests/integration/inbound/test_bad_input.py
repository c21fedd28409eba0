"""Whatever arrives at /in/...: a clean 4xx with code and detail, or a 2xx, never a 5xx."""

from __future__ import annotations

import httpx
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.inbound.conftest import MakeSource
from tests.support import HookdServer

HEADER_NAMES = [
    "Stripe-Signature",
    "Content-Type",
    "X-Hub-Signature-256",
    "X-Signature",
    "X-Timestamp",
    "webhook-id",
    "webhook-signature",
    "webhook-timestamp",
    "X-Forwarded-For",
]
# Valid HTTP field values (visible ASCII, space, obs-text): anything else the HTTP parser
# refuses before hookd sees it.
header_value = st.text(
    st.characters(min_codepoint=32, max_codepoint=255, blacklist_characters="\x7f"), max_size=120
).map(lambda value: value.strip(" "))
header_name = st.one_of(
    st.sampled_from(HEADER_NAMES),
    st.text("abcdefghijklmnopqrstuvwxyz-0123456789", min_size=1, max_size=20),
)
stripe_like = st.builds(
    lambda t, sigs: f"t={t}," + ",".join(f"v1={s}" for s in sigs),
    st.one_of(st.integers(), st.text("0123456789-e.", max_size=20)),
    st.lists(st.text("0123456789abcdefABCDEF=", max_size=70), max_size=3),
)
bodies = st.one_of(
    st.binary(max_size=2000),
    st.builds(
        orjson.dumps,
        st.recursive(
            st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=8), inner, max_size=3)
            ),
            max_leaves=10,
        ),
    ),
)


def assert_clean(response: httpx.Response, method: str) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400 and method != "HEAD":
        assert response.headers.get("content-type") == "application/json", (
            response,
            response.content,
        )
        body = response.json()
        assert "code" in body and "detail" in body, body


async def test_garbage_never_gets_a_server_error(
    make_source: MakeSource, hookd: HookdServer
) -> None:
    _, stripe_url, _ = await make_source("stripe", {"secret": "whsec_garbage"}, forward=False)
    _, generic_url, _ = await make_source(
        "generic-webhook",
        {
            "auth": "hmac",
            "secret": "s",
            "signatureHeader": "X-Signature",
            "signedContent": "{timestamp}.{body}",
            "timestampHeader": "X-Timestamp",
            "dedupJsonPath": "$.id",
            "eventTypeJsonPath": "$.type",
        },
        forward=False,
    )
    targets = [stripe_url, generic_url, f"{hookd.url}/in/no-such-source", f"{hookd.url}/in/%00%ff"]

    with httpx.Client(timeout=10) as client:

        @given(
            url=st.sampled_from(targets),
            method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]),
            headers=st.dictionaries(header_name, header_value, max_size=6),
            signature=st.none() | stripe_like,
            query=st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=3),
            body=bodies,
        )
        @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
        def run(
            url: str,
            method: str,
            headers: dict[str, str],
            signature: str | None,
            query: dict[str, str],
            body: bytes,
        ) -> None:
            if signature is not None:
                headers = headers | {"Stripe-Signature": signature}
            wire = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
            response = client.request(method, url, headers=wire, params=query, content=body)
            assert_clean(response, method)

        run()


async def test_unknown_source_wrong_method_and_too_large(
    make_source: MakeSource, hookd: HookdServer
) -> None:
    unknown = httpx.post(f"{hookd.url}/in/src_nothing_here", content=b"{}")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")

    _, url, _ = await make_source("github", {"secret": "s"}, forward=False)
    wrong = httpx.get(url)
    assert (wrong.status_code, wrong.json()["code"]) == (405, "method_not_allowed")
    assert wrong.headers["allow"] == "POST"

    limit = 1024 * 1024  # HOOKD_MAX_PAYLOAD_BYTES's default
    assert httpx.post(url, content=b"x" * (limit + 1)).status_code == 413

    def chunks() -> object:
        for _ in range(17):
            yield b"y" * 65536  # chunked, no Content-Length: refused by count

    streamed = httpx.post(url, content=chunks())  # type: ignore[arg-type]
    assert (streamed.status_code, streamed.json()["code"]) == (413, "payload_too_large")
    # Exactly at the limit is fine (and then refused for its missing signature).
    assert httpx.post(url, content=b"z" * limit).status_code == 401
