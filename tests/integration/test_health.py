"""Health routes: liveness touches nothing, readiness follows the database (checked in the
background), /api/v1/health keeps its answer for the svix SDK."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import svix_for
from tests.pg import PrivateCluster
from tests.support import HookdServer, NewServer, eventually, free_port

READY = {"status": "ok", "database": "ok"}
NOT_READY = {"status": "error", "database": "unreachable"}


async def test_live_and_ready_answer_get_and_head(hookd: HookdServer) -> None:
    async with httpx.AsyncClient(base_url=hookd.url, timeout=10) as client:
        for path, body in (
            ("/api/v1/health", READY),
            ("/api/v1/health/ready", READY),
            ("/readyz", READY),
            ("/api/v1/health/live", {"status": "ok"}),
            ("/livez", {"status": "ok"}),
            ("/livez?verbose=1", {"status": "ok"}),
        ):
            got = await client.get(path, headers={"X-Request-Id": "probe:1"})
            assert (got.status_code, got.json()) == (200, body), path
            assert got.headers["content-type"] == "application/json"
            assert got.headers["x-request-id"] == "probe:1"  # as on every answer
            head = await client.head(path, headers={"X-Request-Id": "not well-formed"})
            assert (head.status_code, head.content) == (200, b""), path
            assert head.headers["content-length"] == got.headers["content-length"]
            assert len(head.headers["x-request-id"]) == 16  # a new one
        # Another method is the API's answer, in its error shape.
        refused = await client.post("/livez")
        assert (refused.status_code, refused.json()["code"]) == (405, "method_not_allowed")
        assert len(refused.headers["x-request-id"]) == 16
    await svix_for(hookd).health.get()  # the SDK's own call


async def test_probes_keep_the_connection_alive(hookd: HookdServer) -> None:
    """Probes and API requests one after another on one kept-alive connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", hookd.port)
    statuses = []
    for path in ("/livez", "/readyz", "/api/v1/app", "/api/v1/health/live"):
        writer.write(f"GET {path} HTTP/1.1\r\nHost: h\r\n\r\n".encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
        statuses.append(head.split(b" ")[1])
    writer.close()
    assert statuses == [b"200", b"200", b"401", b"200"]


async def test_readiness_follows_the_database_and_liveness_does_not(
    cluster: PrivateCluster, new_server: NewServer
) -> None:
    port = free_port()
    server = new_server({"HOOKD_DATABASE_URL": cluster.url, "HOOKD_HEALTH_PORT": str(port)})
    server.start()
    on_health_port = f"http://127.0.0.1:{port}"
    paths = (
        f"{server.url}/readyz",
        f"{server.url}/api/v1/health",
        f"{on_health_port}/readyz",
        f"{server.url}/livez",
        f"{on_health_port}/livez",
    )
    async with httpx.AsyncClient(timeout=30) as client:

        async def answers() -> list[tuple[int, dict[str, str]]]:
            got = [await client.get(p) for p in paths]
            return [(r.status_code, r.json()) for r in got]

        cluster.pause()

        async def not_ready() -> list[tuple[int, dict[str, str]]] | None:
            now = await answers()
            return now if all(status == 503 for status, _ in now[:3]) else None

        down = await eventually(not_ready, timeout=30, interval=0.2)
        assert down == [(503, NOT_READY)] * 3 + [(200, {"status": "ok"})] * 2
        cluster.resume()

        async def ready() -> list[tuple[int, dict[str, str]]] | None:
            now = await answers()
            return now if all(status == 200 for status, _ in now[:3]) else None

        up = await eventually(ready, timeout=30, interval=0.2)
        assert up == [(200, READY)] * 3 + [(200, {"status": "ok"})] * 2


async def test_the_health_port_answers_probes_only(new_server: NewServer) -> None:
    port = free_port()
    server = new_server({"HOOKD_HEALTH_PORT": str(port)})
    server.start()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        for path, body in (
            ("/api/v1/health", READY),
            ("/readyz", READY),
            ("/api/v1/health/ready?x=1", READY),
            ("/livez", {"status": "ok"}),
            ("/api/v1/health/live", {"status": "ok"}),
        ):
            got = await client.get(path, headers={"X-Request-Id": "probe:2"})
            assert (got.status_code, got.json()) == (200, body), path
            assert got.headers["x-request-id"] == "probe:2"
            head = await client.head(path)
            assert (head.status_code, head.content) == (200, b""), path
            assert len(head.headers["x-request-id"]) == 16
        other = await client.get("/api/v1/app")
        assert (other.status_code, other.json()["code"]) == (404, "not_found")
