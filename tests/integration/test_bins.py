"""Request bins through a real `hookd serve` (SQLite and PostgreSQL): capture, answer, caps,
TTL, the live tail, replay, and what bad input gets."""

from __future__ import annotations

import asyncio
import base64
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
import standardwebhooks

from tests.support import TOKEN, HookdServer, NewServer, Receiver, eventually

BINARY = bytes(range(256)) * 3 + b"\r\n\x00end"


async def _bin(api: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    created = await api.post("/api/v1/bin", json=fields)
    assert created.status_code == 201, created.text
    found: dict[str, Any] = created.json()
    return found


async def _captures(api: httpx.AsyncClient, bin_id: str) -> list[dict[str, Any]]:
    page = await api.get(f"/api/v1/bin/{bin_id}/request", params={"limit": 250})
    assert page.status_code == 200, page.text
    data: list[dict[str, Any]] = page.json()["data"]
    return data


def _error(response: httpx.Response, status: int, code: str) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    assert body["detail"], body
    return body["detail"]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """A sender with no token: capture URLs are public."""
    async with httpx.AsyncClient(timeout=10) as plain:
        yield plain


async def test_a_bin_captures_any_method_path_query_headers_and_exact_bytes(
    api: httpx.AsyncClient, client: httpx.AsyncClient, hookd: HookdServer
) -> None:
    made = await _bin(api, name="capture")
    url = made["url"]
    assert url.startswith(f"{hookd.url}/in/")
    sent = [
        ("POST", "", "", BINARY, [("content-type", "application/octet-stream")]),
        ("PUT", "/orders/42", "a=1&a=2&empty=&flag", b'{"x": 1}', [("x-one", "1")]),
        ("GET", "/deep/er/path", "q=%C3%A9t%C3%A9", b"", [("x-rep", "a"), ("x-rep", "b")]),
        ("DELETE", "/", "", b"", []),
        ("PATCH", "/p", "", b"patch", []),
        ("OPTIONS", "", "", b"", []),
        ("PROPFIND", "/dav", "", b"<propfind/>", []),
    ]
    for method, path, query, body, headers in sent:
        target = url + path + (f"?{query}" if query else "")
        answer = await client.request(method, target, content=body, headers=headers)
        assert answer.status_code == 200, (method, answer.text)
    captured = list(reversed(await _captures(api, made["id"])))  # oldest first
    assert [c["method"] for c in captured] == [s[0] for s in sent]
    for capture, (_, path, query, body, headers) in zip(captured, sent, strict=True):
        assert capture["binId"] == made["id"]
        assert capture["path"] == path
        assert capture["query"] == query
        assert capture["url"] == url + path + (f"?{query}" if query else "")
        assert base64.b64decode(capture["body"]) == body
        assert capture["bodySize"] == len(body)
        assert capture["remoteIp"] == "127.0.0.1"
        assert capture["responseStatusCode"] == 200
        for pair in headers:
            assert list(pair) in capture["headers"]
        one = await api.get(f"/api/v1/bin/{made['id']}/request/{capture['id']}")
        assert one.json() == capture
    assert captured[0]["bodyText"] is None  # not UTF-8
    assert captured[1]["bodyText"] == '{"x": 1}'
    # Repeated headers are kept in order, each its own pair.
    reps = [pair for pair in captured[2]["headers"] if pair[0] == "x-rep"]
    assert reps == [["x-rep", "a"], ["x-rep", "b"]]

    # The same storage as sources: the Ingest API lists the bin and shows its requests too.
    source = (await api.get(f"/ingest/api/v1/source/{made['id']}")).json()
    assert (source["type"], source["ingestUrl"]) == ("bin", url)
    records = (await api.get(f"/ingest/api/v1/source/{made['id']}/request")).json()["data"]
    assert {r["id"] for r in records} == {c["id"] for c in captured}
    assert {r["verification"]["code"] for r in records} == {"captured"}


async def test_a_bin_answers_as_configured_and_can_be_changed(
    api: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    answer = {
        "statusCode": 418,
        "headers": {"Content-Type": "text/plain", "X-Bin": "yes"},
        "body": "I'm a teapot",
    }
    made = await _bin(api, answer=answer, ttlSeconds=3600)
    assert made["answer"] == {
        "statusCode": 418,
        "headers": {"content-type": "text/plain", "x-bin": "yes"},
        "body": "I'm a teapot",
        "delayMs": 0,
    }
    assert made["ttlSeconds"] == 3600
    got = await client.post(made["url"] + "/any", content=b"x")
    assert got.status_code == 418
    assert got.text == "I'm a teapot"
    assert got.headers["x-bin"] == "yes"
    assert got.headers["content-type"] == "text/plain"
    assert got.headers["content-length"] == str(len("I'm a teapot"))

    changed = await api.patch(f"/api/v1/bin/{made['id']}", json={"answer": {"statusCode": 204}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["answer"] == {"statusCode": 204, "headers": {}, "body": "", "delayMs": 0}
    assert changed.json()["url"] == made["url"]
    assert changed.json()["ttlSeconds"] == 3600

    async def answers_204() -> bool:  # the ingest door keeps a source for up to a second
        return (await client.post(made["url"], content=b"y")).status_code == 204

    await eventually(answers_204)
    head = await client.head(made["url"])
    assert head.status_code == 204
    statuses = {c["responseStatusCode"] for c in await _captures(api, made["id"])}
    assert statuses == {418, 204}


async def test_a_delayed_answer_waits_without_holding_up_the_server(
    api: httpx.AsyncClient, hookd: HookdServer
) -> None:
    slow = await _bin(api, answer={"delayMs": 60_000})
    quick = await _bin(api)
    async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=120)) as client:
        waiting = [asyncio.create_task(client.post(slow["url"], content=b"slow")) for _ in range(3)]

        async def all_stored() -> bool:
            return len(await _captures(api, slow["id"])) == 3

        # Stored before the answer (each committed; no transaction held while they wait) ...
        await eventually(all_stored)
        # ... and everything else is answered meanwhile.
        assert (await client.post(quick["url"], content=b"fast")).status_code == 200
        assert (await api.get("/api/v1/bin")).status_code == 200
        assert not any(task.done() for task in waiting)
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
    # A sender with a short timeout gives up; the bin kept what it sent.
    shorter = await _bin(api, answer={"delayMs": 3000})
    async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=0.5)) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await impatient.post(shorter["url"], content=b"gave up")

    async def kept() -> list[dict[str, Any]]:
        return await _captures(api, shorter["id"])

    (capture,) = await eventually(kept)
    assert base64.b64decode(capture["body"]) == b"gave up"


async def test_caps_keep_the_newest_requests_and_refuse_large_bodies(
    new_server: NewServer,
) -> None:
    server = new_server({"HOOKD_BIN_MAX_REQUESTS": "3", "HOOKD_BIN_MAX_BODY_BYTES": "16"})
    server.start()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=10) as api:
        made = await _bin(api)
        assert (made["maxRequests"], made["maxBodyBytes"]) == (3, 16)
        for n in range(5):
            assert (await api.post(made["url"], content=f"request {n}".encode())).status_code == 200
        kept = await _captures(api, made["id"])
        assert [base64.b64decode(c["body"]) for c in kept] == [
            b"request 4",
            b"request 3",
            b"request 2",
        ]
        too_large = await api.post(made["url"], content=b"x" * 17)
        _error(too_large, 413, "payload_too_large")
        assert (await api.post(made["url"], content=b"x" * 16)).status_code == 200
        assert len(await _captures(api, made["id"])) == 3


async def test_requests_past_the_ttl_are_forgotten(new_server: NewServer) -> None:
    server = new_server({"HOOKD_PRUNE_INTERVAL": "0.2"})
    server.start()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=10) as api:
        short = await _bin(api, ttlSeconds=1)
        long = await _bin(api, ttlSeconds=3600)
        for made in (short, long):  # answered once stored
            assert (await api.post(made["url"], content=b"kept a while")).status_code == 200
        database = server.data_dir / "hookd.db"

        def rows(bin_id: str) -> int:
            with sqlite3.connect(database) as conn:
                query = "SELECT count(*) FROM inbound_requests WHERE source_id = ?"
                count: int = conn.execute(query, (bin_id,)).fetchone()[0]
                return count

        async def pruned() -> bool:
            return rows(short["id"]) == 0

        # The worker's periodic prune deletes the row itself.
        await eventually(pruned, timeout=30)
        assert await _captures(api, short["id"]) == []
        assert rows(long["id"]) == 1
        assert len(await _captures(api, long["id"])) == 1


async def _lines(response: httpx.Response) -> AsyncIterator[str]:
    async for line in response.aiter_lines():
        yield line


async def _next_event(lines: AsyncIterator[str]) -> tuple[str, str, dict[str, Any]]:
    """The next ``request`` event of a stream: its id, type and data."""
    event_id = event = ""
    data: list[str] = []
    async for line in lines:
        if line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif not line and data:
            return event_id, event, orjson.loads("\n".join(data))
    raise AssertionError("the stream ended")


async def test_the_stream_pushes_requests_posted_after_subscribing(
    api: httpx.AsyncClient, client: httpx.AsyncClient, hookd: HookdServer
) -> None:
    made = await _bin(api)
    assert (await client.post(made["url"], content=b"before")).status_code == 200
    headers = {"Authorization": f"Bearer {TOKEN}"}
    timeout = httpx.Timeout(10, read=30)
    async with (
        httpx.AsyncClient(base_url=hookd.url, headers=headers, timeout=timeout) as follower,
        follower.stream("GET", f"/api/v1/bin/{made['id']}/stream") as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = _lines(stream)
        opening = await anext(lines)
        assert opening == f": following bin {made['id']}"
        for n in range(3):
            sent = await client.put(f"{made['url']}/live/{n}?n={n}", content=f"live {n}".encode())
            assert sent.status_code == 200
            event_id, event, data = await _next_event(lines)
            assert event == "request"
            assert data["id"] == event_id
            assert (data["method"], data["path"], data["query"]) == ("PUT", f"/live/{n}", f"n={n}")
            assert base64.b64decode(data["body"]) == f"live {n}".encode()
        last_id = event_id
    # Resumed after the last event seen: only what came since.
    assert (await client.post(made["url"], content=b"while away")).status_code == 200
    resume = {**headers, "Last-Event-ID": last_id}
    async with (
        httpx.AsyncClient(base_url=hookd.url, headers=resume, timeout=timeout) as follower,
        follower.stream("GET", f"/api/v1/bin/{made['id']}/stream") as stream,
    ):
        _, _, data = await _next_event(_lines(stream))
        assert base64.b64decode(data["body"]) == b"while away"


async def test_the_stream_sees_requests_stored_by_another_process(
    new_server: NewServer,
) -> None:
    """Two API processes on one PostgreSQL database: a capture one stores reaches a follower of
    the other (its poll; no in-process wake-up crosses processes)."""
    from tests.pg import create_database, drop_database

    url = create_database()
    try:
        first = new_server({"HOOKD_DATABASE_URL": url}, name="first")
        second = new_server({"HOOKD_DATABASE_URL": url, "HOOKD_ROLE": "api"}, name="second")
        first.start()
        second.start()
        headers = {"Authorization": f"Bearer {TOKEN}"}
        timeout = httpx.Timeout(10, read=30)
        async with httpx.AsyncClient(base_url=first.url, headers=headers, timeout=10) as api:
            made = await _bin(api)
            async with (
                httpx.AsyncClient(base_url=second.url, headers=headers, timeout=timeout) as other,
                other.stream("GET", f"/api/v1/bin/{made['id']}/stream") as stream,
            ):
                lines = _lines(stream)
                assert (await anext(lines)).startswith(": following")
                assert (await api.post(made["url"], content=b"from the first")).status_code == 200
                _, _, data = await _next_event(lines)
                assert base64.b64decode(data["body"]) == b"from the first"
        first.stop()
        second.stop()
    finally:
        drop_database(url)


async def test_replay_sends_the_exact_request_to_any_url(
    api: httpx.AsyncClient, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    secret = "whsec_" + base64.b64encode(b"bin replay secret 32 bytes long!").decode()
    made = await _bin(api)
    # JSON (the verifier parses it) as a sender formats it: its bytes are what is signed.
    body = '{"type": "invoice.paid",\n  "amount": 42, "note": "été"}  '.encode()
    now = datetime.fromtimestamp(int(time.time()), UTC)
    headers = {
        "webhook-id": "msg_replay",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": standardwebhooks.Webhook(secret).sign("msg_replay", now, body),
        "content-type": "application/json",
        "x-custom": "kept",
        "authorization": "Bearer theirs",
    }
    sent = await client.patch(made["url"] + "/sub?x=1", content=body, headers=headers)
    assert sent.status_code == 200
    (capture,) = await _captures(api, made["id"])
    receiver.default = 202
    replayed = await api.post(
        f"/api/v1/bin/{made['id']}/request/{capture['id']}/replay",
        json={"url": receiver.url_for("/elsewhere")},
    )
    assert replayed.status_code == 200, replayed.text
    answer = replayed.json()
    assert (answer["statusCode"], answer["error"]) == (202, None)
    (arrived,) = await receiver.wait_for(1)
    assert (arrived.method, arrived.path) == ("PATCH", "/elsewhere")
    assert arrived.body == body
    received = {name.lower(): value for name, value in arrived.headers.items()}
    for name in ("content-type", "x-custom", "authorization", "webhook-id", "webhook-signature"):
        assert received[name] == headers[name], (name, received)
    # The original sender's signature still verifies where it was replayed to.
    standardwebhooks.Webhook(secret).verify(arrived.body, arrived.headers)

    # Nothing answering: a 200 saying so.
    receiver_gone = receiver.url_for("/x").replace(str(receiver.port), "1")
    missed = await api.post(
        f"/api/v1/bin/{made['id']}/request/{capture['id']}/replay",
        json={"url": receiver_gone, "timeoutMs": 2000},
    )
    assert missed.status_code == 200, missed.text
    assert missed.json()["statusCode"] == 0
    assert missed.json()["error"]


async def test_bad_input_gets_a_code_and_a_detail(
    api: httpx.AsyncClient, client: httpx.AsyncClient, hookd: HookdServer
) -> None:
    for fields in (
        {"answer": {"statusCode": 99}},
        {"answer": {"statusCode": 600}},
        {"answer": {"delayMs": 60_001}},
        {"answer": {"delayMs": -1}},
        {"answer": {"delayMs": False}},  # a boolean is no number (pydantic's lax mode)
        {"ttlSeconds": True},
        {"answer": {"headers": {"Content-Length": "3"}}},
        {"answer": {"headers": {"Bad Name": "x"}}},
        {"answer": {"headers": {"X-A": "line\nbreak"}}},
        {"answer": {"statusCode": 204, "body": "not allowed"}},
        {"answer": {"body": "x" * (64 * 1024 + 1)}},
        {"ttlSeconds": 0},
        {"ttlSeconds": 31 * 24 * 3600},
        {"uid": "has space"},
        {"answer": "not an object"},
    ):
        _error(await api.post("/api/v1/bin", json=fields), 422, "validation")
    # Through the Ingest API, the same rules name the config's field.
    invalid = await api.post(
        "/ingest/api/v1/source",
        json={"name": "b", "type": "bin", "config": {"answer": {"statusCode": 204, "body": "x"}}},
    )
    detail = _error(invalid, 422, "validation")
    assert detail[0]["loc"] == ["body", "config", "answer.body"]
    unknown = await api.post(
        "/ingest/api/v1/source", json={"name": "b", "type": "bin", "config": {"answr": {}}}
    )
    _error(unknown, 422, "validation")

    _error(await api.get("/api/v1/bin/src_missing"), 404, "not_found")
    _error(await api.get("/api/v1/bin/src_missing/stream"), 404, "not_found")
    _error(await api.patch("/api/v1/bin/src_missing", json={}), 404, "not_found")
    _error(await api.delete("/api/v1/bin/src_missing"), 404, "not_found")
    made = await _bin(api)
    _error(await api.get(f"/api/v1/bin/{made['id']}/request/req_missing"), 404, "not_found")
    bad_patch = await api.patch(f"/api/v1/bin/{made['id']}", json={"ttlSeconds": 0})
    _error(bad_patch, 422, "validation")

    # A source that is not a bin is no bin, and takes no sub-path.
    source = await api.post(
        "/ingest/api/v1/source",
        json={"name": "s", "type": "generic-webhook", "config": {"auth": "none"}},
    )
    assert source.status_code == 201, source.text
    _error(await api.get(f"/api/v1/bin/{source.json()['id']}"), 404, "not_found")
    _error(await client.post(source.json()["ingestUrl"] + "/sub"), 404, "not_found")

    assert (await client.post(made["url"], content=b"x")).status_code == 200
    (capture,) = await _captures(api, made["id"])
    replay = f"/api/v1/bin/{made['id']}/request/{capture['id']}/replay"
    for url in ("ftp://example.com/", "not a url", "redis://127.0.0.1:6379/0"):
        _error(await api.post(replay, json={"url": url}), 422, "validation")
    outside = await api.post(replay, json={"url": "http://10.1.2.3/hook"})
    _error(outside, 422, "url_not_allowed")
    _error(await api.post(replay, json={"url": "http://x", "timeoutMs": 0}), 422, "validation")
    missing = f"/api/v1/bin/{made['id']}/request/req_missing/replay"
    _error(await api.post(missing, json={"url": "http://example.com/"}), 404, "not_found")
    # A bin forwards nothing: the source replay says where its replay is.
    source_replay = f"/ingest/api/v1/source/{made['id']}/request/{capture['id']}/replay"
    _error(await api.post(source_replay), 409, "not_replayable")
    bulk = await api.post(
        f"/ingest/api/v1/source/{made['id']}/request/replay",
        json={"since": "2026-01-01T00:00:00Z"},
    )
    _error(bulk, 409, "not_replayable")
    # Bins are the admin's.
    async with httpx.AsyncClient(base_url=hookd.url, timeout=10) as anonymous:
        _error(await anonymous.get("/api/v1/bin"), 401, "authentication_failed")

    deleted = await api.delete(f"/api/v1/bin/{made['id']}")
    assert deleted.status_code == 204
    _error(await api.get(f"/api/v1/bin/{made['id']}/request"), 404, "not_found")

    async def capture_url_gone() -> bool:  # the ingest door keeps a source for up to a second
        return (await client.post(made["url"])).status_code == 404

    await eventually(capture_url_gone)


async def test_endpoints_reach_the_servers_own_url_with_the_default_guard(
    new_server: NewServer, receiver: Receiver
) -> None:
    """With no network allowed (the default), an endpoint may still point at a bin of the
    server's own (HOOKD_ALLOW_OWN_URL), and nothing else on loopback; turned off, not even."""
    server = new_server({"HOOKD_ALLOW_NETWORKS": ""})
    server.start()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=10) as api:
        made = await _bin(api)
        app = (await api.post("/api/v1/app", json={"name": "own"})).json()
        endpoints = f"/api/v1/app/{app['id']}/endpoint"
        own = await api.post(endpoints, json={"url": made["url"] + "/hook"})
        assert own.status_code == 201, own.text
        other = await api.post(endpoints, json={"url": receiver.url})
        _error(other, 422, "url_not_allowed")
        message = await api.post(
            f"/api/v1/app/{app['id']}/msg", json={"eventType": "own.url", "payload": {"a": 1}}
        )
        assert message.status_code == 201, message.text

        async def delivered() -> list[dict[str, Any]]:
            return await _captures(api, made["id"])

        (capture,) = await eventually(delivered)
        assert capture["path"] == "/hook"
        assert orjson.loads(base64.b64decode(capture["body"])) == {"a": 1}
    server.stop()

    closed = new_server({"HOOKD_ALLOW_NETWORKS": "", "HOOKD_ALLOW_OWN_URL": "false"}, "closed")
    closed.start()
    async with httpx.AsyncClient(base_url=closed.url, headers=headers, timeout=10) as api:
        made = await _bin(api)
        app = (await api.post("/api/v1/app", json={"name": "closed"})).json()
        refused = await api.post(f"/api/v1/app/{app['id']}/endpoint", json={"url": made["url"]})
        _error(refused, 422, "url_not_allowed")


async def test_the_ingest_api_lists_no_bin(api: httpx.AsyncClient) -> None:
    """The Ingest API's clients (the svix SDK) know only Svix's source types: a bin is listed by
    /api/v1/bin, not by /ingest/api/v1/source (whose type the SDK would refuse to read)."""
    made = await _bin(api, name="not-a-svix-source")
    sources = await api.get("/ingest/api/v1/source", params={"limit": 250})
    assert sources.status_code == 200, sources.text
    assert all(item["type"] not in ("bin", "relay") for item in sources.json()["data"])
    assert (await api.get(f"/ingest/api/v1/source/{made['id']}")).status_code == 200


@pytest.mark.parametrize(
    ("kind", "config"), [("relay", {}), ("generic-webhook", {"provider": "relay"})]
)
async def test_the_ingest_api_makes_no_relay(
    api: httpx.AsyncClient, kind: str, config: dict[str, str]
) -> None:
    """Nor does it make a relay (as a type or a generic webhook's provider), by POST or PUT:
    it would have no listener endpoint (hookd listen makes relays)."""
    uid = f"not-here-{uuid.uuid4().hex[:8]}"
    body = {"name": "not here", "type": kind, "config": config}
    for answer in (
        await api.post("/ingest/api/v1/source", json=body),
        await api.put(f"/ingest/api/v1/source/{uid}", json=body),
    ):
        assert answer.status_code == 422, answer.text
        refused = answer.json()
        assert refused["code"] == "validation"
        assert refused["detail"][0]["loc"] == ["body", "type"]
        assert "hookd listen" in refused["detail"][0]["msg"]
    assert (await api.get(f"/ingest/api/v1/source/{uid}")).status_code == 404
