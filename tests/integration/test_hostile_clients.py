"""Stalled and hostile clients: 2,000 connections that never finish a request do not take the
server down; they are closed (408 once they sent part of a request), one address cannot hold
more than its share, and health and message creates answer meanwhile.

The server starts with a soft open-files limit of 1,024 (systemd's default): it must raise its own
to the hard limit to hold the 2,000 connections and still accept new ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import uuid
from pathlib import Path

import httpx
import orjson
from svix.api import ApplicationIn, IngestSourceIn, MessageIn

from tests.conftest import svix_for
from tests.support import TOKEN, HookdServer, NewServer

PER_KIND = 500  # four kinds: 2,000 stalled connections
ADDRESSES = [f"127.0.0.{n}" for n in range(10, 30)]  # 100 connections from each (the cap)
CAP = 100
LIMIT_AT_START = 1024
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def _raise_own_limit(at_least: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < at_least:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _start_with_low_limit(server: HookdServer) -> None:
    """Start ``server`` (a fresh interpreter) with a soft open-files limit of 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert hard >= 4096, "the hard limit on open files is too low for this test"
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT_AT_START, hard))
    try:
        server.start(timeout=60)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 8192) if soft < hard else soft, hard))


async def _open(port: int, address: str, sent: bytes) -> Stream:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(address, 0))
    if sent:
        writer.write(sent)
        await writer.drain()
    return reader, writer


async def _until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent until it closed the connection."""
    with contextlib.suppress(ConnectionResetError):
        return await reader.read()
    return b""


async def test_stalled_connections_are_dropped_while_health_and_creates_answer(
    new_server: NewServer,
) -> None:
    _raise_own_limit(8192)
    server = new_server(
        {
            # Long enough that all 2,000 are still open while health and creates are checked.
            "HOOKD_HEADER_TIMEOUT": "20",
            "HOOKD_BODY_TIMEOUT": "20",
            "HOOKD_MAX_CONNECTIONS_PER_ADDRESS": str(CAP),
        }
    )
    server.fresh_interpreter = True  # a process of its own, started with the low limit
    _start_with_low_limit(server)
    assert server.process is not None
    limits = Path(f"/proc/{server.process.pid}/limits").read_text()
    (soft, hard) = next(
        line.split()[3:5] for line in limits.splitlines() if line.startswith("Max open files")
    )
    assert int(soft) == int(hard) > LIMIT_AT_START, "the server keeps the soft limit it was given"
    svix = svix_for(server)
    app = await svix.application.create(ApplicationIn(name="busy", uid=f"a-{uuid.uuid4().hex}"))
    source = await svix.ingest.source.create(
        IngestSourceIn.model_validate(
            {
                "name": "slow",
                "uid": f"s-{uuid.uuid4().hex[:12]}",
                "type": "generic-webhook",
                "config": {"provider": "standard-webhooks", "secret": SECRET},
            }
        )
    )
    assert source.ingest_url is not None
    ingest_path = source.ingest_url.removeprefix(server.url)
    body = orjson.dumps({"eventType": "user.created", "payload": {"padding": "x" * 100}})
    kinds = {
        "idle": b"",
        "head": b"GET /api/v1/health HTTP/1.1\r\nHost: hookd\r\nX-Slow: ",
        "create body": (
            f"POST /api/v1/app/{app.id}/msg HTTP/1.1\r\nHost: hookd\r\n"
            f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body[:20],
        "ingest body": (
            f"POST {ingest_path} HTTP/1.1\r\nHost: hookd\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body[:20],
    }
    addresses = iter(ADDRESSES * CAP)
    stalled: dict[str, list[Stream]] = {}
    for kind, sent in kinds.items():
        stalled[kind] = await asyncio.gather(
            *(_open(server.port, next(addresses), sent) for _ in range(PER_KIND))
        )

    # Held: the server answers health (accepted after all 2,000, in order) and creates.
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        for path in ("/api/v1/health", "/api/v1/health/live", "/api/v1/health/ready"):
            assert (await client.get(path)).status_code == 200, path
    created = await asyncio.gather(
        *(
            svix.message.create(app.id, MessageIn(event_type="user.created", payload={"n": n}))
            for n in range(20)
        )
    )
    assert len({message.id for message in created}) == 20
    streams = [stream for kind in stalled.values() for stream in kind]
    assert not any(reader.at_eof() for reader, _ in streams), "closed before the checks ran"

    # One address holds at most CAP connections: one more is answered 429 and closed.
    reader, writer = await _open(server.port, ADDRESSES[0], b"")
    refused = await asyncio.wait_for(_until_closed(reader), 30)
    writer.close()
    assert refused.startswith(b"HTTP/1.1 429 "), refused
    assert orjson.loads(refused.partition(b"\r\n\r\n")[2])["code"] == "too_many_connections"

    # Then the server closes every stalled connection: 408 to those that sent something.
    for kind, opened in stalled.items():
        answers = await asyncio.wait_for(
            asyncio.gather(*(_until_closed(reader) for reader, _ in opened)), 120
        )
        for (_, writer), answer in zip(opened, answers, strict=True):
            writer.close()
            if kind == "idle":
                assert answer == b"", (kind, answer)
            else:
                assert answer.startswith(b"HTTP/1.1 408 "), (kind, answer)
                assert orjson.loads(answer.partition(b"\r\n\r\n")[2])["code"] == "request_timeout"

    # Their addresses are free again, and nothing the stalled requests sent was stored.
    reader, writer = await _open(
        server.port, ADDRESSES[0], b"GET /api/v1/health HTTP/1.1\r\nHost: hookd\r\n\r\n"
    )
    assert (await reader.readuntil(b"\r\n")).startswith(b"HTTP/1.1 200 ")
    writer.close()
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    ) as api:
        listed = (await api.get(f"/api/v1/app/{app.id}/msg", params={"limit": 250})).json()
        assert len(listed["data"]) == 20
        requests = (await api.get(f"/ingest/api/v1/source/{source.id}/request")).json()
        assert requests["data"] == []
    assert "Traceback" not in server.log_path.read_text()


async def test_deadlines_per_request_and_a_slow_body_that_keeps_coming(
    new_server: NewServer,
) -> None:
    server = new_server({"HOOKD_HEADER_TIMEOUT": "2", "HOOKD_BODY_TIMEOUT": "5"})
    server.start()
    svix = svix_for(server)
    app = await svix.application.create(ApplicationIn(name="slow", uid=f"a-{uuid.uuid4().hex}"))
    body = orjson.dumps({"eventType": "user.created", "payload": {"padding": "x" * 200}})
    head = (
        f"POST /api/v1/app/{app.id}/msg HTTP/1.1\r\nHost: hookd\r\n"
        f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    # A body sent in ten pieces, each well inside the body deadline: it is taken.
    reader, writer = await _open(server.port, "127.0.0.1", head)
    for n in range(10):
        await asyncio.sleep(0.2)
        writer.write(body[n * len(body) // 10 : (n + 1) * len(body) // 10])
        await writer.drain()
    answer = await asyncio.wait_for(reader.readuntil(b"\r\n"), 30)
    assert answer.startswith(b"HTTP/1.1 201 "), answer
    writer.close()
    # On a kept-alive connection each request has its own head deadline: one answered, the
    # next one left half-sent is closed with a 408.
    reader, writer = await _open(
        server.port, "127.0.0.1", b"GET /livez HTTP/1.1\r\nHost: h\r\n\r\n"
    )
    first = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    assert first.startswith(b"HTTP/1.1 200 ")
    await reader.readexactly(len(b'{"status":"ok"}'))
    writer.write(b"GET /livez HTTP/1.1\r\nHost: h\r\n")
    rest = await asyncio.wait_for(_until_closed(reader), 60)
    writer.close()
    assert rest.startswith(b"HTTP/1.1 408 "), rest
