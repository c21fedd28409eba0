"""Forwarding endpoints' filters (body, headers, query, path) and transformations on ingested
requests, through a real hookd and a real receiver."""

from __future__ import annotations

import gzip
from typing import Any

import httpx
import orjson
import pytest
import standardwebhooks
from aiohttp import web

from tests.integration.inbound.conftest import MakeSource
from tests.integration.inbound.signers import github_headers, stripe_headers
from tests.support import Receiver

pytest.importorskip("py_mini_racer", reason="mini-racer (the transformations extra) is missing")

GITHUB_SECRET = "github-filter-secret"
STRIPE_SECRET = "whsec_filter_stripe"


async def add_endpoint(api: httpx.AsyncClient, source_id: str, **fields: Any) -> dict[str, Any]:
    response = await api.post(f"/ingest/api/v1/source/{source_id}/endpoint", json=fields)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def forwarded_to(api: httpx.AsyncClient, source_id: str) -> list[set[str]]:
    """For each accepted request, oldest first, the endpoints it was forwarded to."""
    listing = await api.get(f"/ingest/api/v1/source/{source_id}/request")
    out = []
    for record in reversed(listing.json()["data"]):
        detail = await api.get(f"/ingest/api/v1/source/{source_id}/request/{record['id']}")
        out.append({target["endpointId"] for target in detail.json()["forwardedTo"]})
    return out


async def test_filters_match_body_headers_query_and_path_of_a_github_request(
    make_source: MakeSource, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    source_id, url, _ = await make_source("github", {"secret": GITHUB_SECRET}, forward=False)
    main = await add_endpoint(
        api,
        source_id,
        url=receiver.url_for("/main"),
        filter={"headers": {"x-github-event": "push"}, "body": {"ref": "refs/heads/main"}},
    )
    prod = await add_endpoint(
        api,
        source_id,
        url=receiver.url_for("/prod"),
        filter={"query": {"env": "prod"}, "path": {"$startsWith": "/in/"}},
    )
    everything = await add_endpoint(api, source_id, url=receiver.url_for("/all"))

    push = orjson.dumps({"ref": "refs/heads/main", "commits": [{"id": "c1"}]})
    issue = orjson.dumps({"action": "opened", "issue": {"number": 7}})
    assert httpx.post(
        url, content=push, headers=github_headers(push, GITHUB_SECRET, "push")
    ).is_success
    response = httpx.post(
        url,
        params={"env": "prod"},
        content=issue,
        headers=github_headers(issue, GITHUB_SECRET, "issues"),
    )
    assert response.is_success

    await receiver.wait_for(2, path="/all")
    await receiver.wait_for(1, path="/main")
    await receiver.wait_for(1, path="/prod")
    assert await forwarded_to(api, source_id) == [
        {main["id"], everything["id"]},
        {prod["id"], everything["id"]},
    ]
    paths = sorted(r.path for r in receiver.requests)
    assert paths == ["/all", "/all", "/main", "/prod"]


async def test_stripe_filter_on_nested_body_values(
    make_source: MakeSource, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    source_id, url, _ = await make_source("stripe", {"secret": STRIPE_SECRET}, forward=False)
    big = await add_endpoint(
        api,
        source_id,
        url=receiver.url_for("/big"),
        filter={
            "body": {
                "type": {"$in": ["invoice.paid"]},
                "data": {"object": {"amount": {"$gte": 100}}},
            }
        },
    )
    for event_id, amount in (("evt_small", 5), ("evt_big", 500)):
        body = orjson.dumps(
            {"id": event_id, "type": "invoice.paid", "data": {"object": {"amount": amount}}}
        )
        assert httpx.post(url, content=body, headers=stripe_headers(body, STRIPE_SECRET)).is_success
    (delivered,) = await receiver.wait_for(1, path="/big")
    assert orjson.loads(delivered.body)["id"] == "evt_big"
    assert await forwarded_to(api, source_id) == [set(), {big["id"]}]


async def test_transformation_rewrites_body_headers_and_path_and_hookd_signs_the_result(
    make_source: MakeSource, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    source_id, url, _ = await make_source("stripe", {"secret": STRIPE_SECRET}, forward=False)
    code = """function handler(request) {
      request.path = "/events/" + request.body.type.replace(/\\./g, "/");
      request.headers["x-event-id"] = request.body.id;
      request.body = {id: request.body.id, cents: request.body.data.object.amount * 100};
      return request;
    }"""
    endpoint = await add_endpoint(
        api, source_id, url=receiver.url, transformation={"code": code, "enabled": True}
    )
    assert endpoint["transformation"] == {"code": code, "enabled": True}
    secret = (
        await api.get(f"/ingest/api/v1/source/{source_id}/endpoint/{endpoint['id']}/secret")
    ).json()["key"]

    body = orjson.dumps({"id": "evt_t", "type": "invoice.paid", "data": {"object": {"amount": 12}}})
    assert httpx.post(url, content=body, headers=stripe_headers(body, STRIPE_SECRET)).is_success

    (delivered,) = await receiver.wait_for(1)
    assert delivered.path == "/events/invoice/paid"
    assert orjson.loads(delivered.body) == {"id": "evt_t", "cents": 1200}
    headers = {name.lower(): value for name, value in delivered.headers.items()}
    assert headers["x-event-id"] == "evt_t"
    assert "stripe-signature" in headers  # forwarded headers reach the handler and stay
    standardwebhooks.Webhook(secret).verify(delivered.body, delivered.headers)


async def test_disabled_transformation_is_kept_but_not_run(
    make_source: MakeSource, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    source_id, url, _ = await make_source("stripe", {"secret": STRIPE_SECRET}, forward=False)
    code = "function handler(request) { return null; }"
    await add_endpoint(
        api, source_id, url=receiver.url, transformation={"code": code, "enabled": False}
    )
    body = orjson.dumps({"id": "evt_off", "type": "invoice.paid"})
    assert httpx.post(url, content=body, headers=stripe_headers(body, STRIPE_SECRET)).is_success
    (delivered,) = await receiver.wait_for(1)
    assert delivered.body == body


async def test_bad_filter_on_a_forwarding_endpoint_is_a_422_naming_the_spot(
    make_source: MakeSource, receiver: Receiver, api: httpx.AsyncClient
) -> None:
    source_id, _, _ = await make_source("stripe", {"secret": STRIPE_SECRET}, forward=False)
    response = await api.post(
        f"/ingest/api/v1/source/{source_id}/endpoint",
        json={"url": receiver.url, "filter": {"body": {"amount": {"$gt": [1]}}}},
    )
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", "filter", "body", "amount", "$gt"]
    assert problem["msg"] == "body.amount.$gt: expects a number or a string, got array"


class RawReceiver(Receiver):
    """A receiver that records bodies as they came over the wire (aiohttp would undo a
    ``Content-Encoding`` itself, and fail on a body that is not what the header says)."""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=0.5, auto_decompress=False
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()


def as_sent(received: Any) -> Any:
    """The body a receiver gets once it undoes the request's ``Content-Encoding`` (gzip's own
    decoder is the oracle), parsed as JSON."""
    headers = {name.lower(): value for name, value in received.headers.items()}
    body = received.body
    if headers.get("content-encoding", "identity").lower() == "gzip":
        body = gzip.decompress(body)
    else:
        assert headers.get("content-encoding", "identity").lower() == "identity", headers
    return orjson.loads(body)


async def test_a_gzip_request_forwarded_through_a_body_rewriting_transformation_decodes(
    make_source: MakeSource, api: httpx.AsyncClient
) -> None:
    """hookd keeps an ingested gzip body as it came (signatures cover those bytes). Forwarded as
    is, it keeps its Content-Encoding; a transformation sees the decoded JSON, and the body it
    writes leaves without the Content-Encoding that no longer describes it."""
    receiver = RawReceiver()
    await receiver.start()
    try:
        source_id, url, _ = await make_source("github", {"secret": GITHUB_SECRET}, forward=False)
        replace = "function handler(request) { request.body = {replaced: true}; return request; }"
        await add_endpoint(
            api,
            source_id,
            url=receiver.url_for("/replaced"),
            transformation={"code": replace, "enabled": True},
        )
        code = """function handler(request) {
          request.body = {ref: request.body.ref, commits: request.body.commits.length};
          return request;
        }"""
        await add_endpoint(
            api,
            source_id,
            url=receiver.url_for("/rewritten"),
            transformation={"code": code, "enabled": True},
        )
        headers_only = """function handler(request) {
          request.headers["x-seen"] = "yes";
          return request;
        }"""
        await add_endpoint(
            api,
            source_id,
            url=receiver.url_for("/headers-only"),
            transformation={"code": headers_only, "enabled": True},
        )
        await add_endpoint(api, source_id, url=receiver.url_for("/plain"))

        push = {"ref": "refs/heads/main", "commits": [{"id": "c1"}, {"id": "c2"}]}
        wire = gzip.compress(orjson.dumps(push))
        headers = {**github_headers(wire, GITHUB_SECRET, "push"), "Content-Encoding": "gzip"}
        assert httpx.post(url, content=wire, headers=headers).is_success

        (replaced,) = await receiver.wait_for(1, path="/replaced")
        assert as_sent(replaced) == {"replaced": True}
        assert "content-encoding" not in {name.lower() for name in replaced.headers}
        (rewritten,) = await receiver.wait_for(1, path="/rewritten")
        (headers_only_sent,) = await receiver.wait_for(1, path="/headers-only")
        (plain,) = await receiver.wait_for(1, path="/plain")
    finally:
        await receiver.stop()
    assert as_sent(rewritten) == {"ref": "refs/heads/main", "commits": 2}
    assert as_sent(headers_only_sent) == push
    assert headers_only_sent.body == wire  # untouched: the exact bytes, still gzip
    assert headers_only_sent.headers["x-seen"] == "yes"
    assert plain.body == wire and as_sent(plain) == push
