"""The create path's CPU without HTTP: keyed message creates driven through hookd's ASGI server in
one process, no sockets, no load generator.

    PYTHONPATH=<tree>/src python -m bench.create_inproc [--count 8000] [--concurrency 32]

Builds what ``hookd serve`` builds (``Runtime``, ``create_server``, the lifespan run through
ASGI) on a fresh SQLite file in a temporary directory, creates one application, then sends
``--count`` creates shaped as the svix SDK sends them (1 KiB payload, an ``Idempotency-Key``
each), ``--concurrency`` at a time, and prints the CPU per create (``time.process_time``) and
the creates per second. Run it alternately on two trees (``PYTHONPATH``) to compare the work
behind the HTTP server: the served comparison is ``python -m bench --scenario create-api``,
whose rates also carry uvicorn, the loopback and the load generator sharing the cores. The
log lines (the access line of each create, as the server writes them) go to standard error.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import uvloop
from starlette.types import Message

from bench.hookd_server import MAIN_KEY, TOKEN
from bench.payload import EVENT_TYPE, payload_object

Headers = list[tuple[bytes, bytes]]


def _scope(method: str, path: str, headers: Headers) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8040),
        "state": {},
    }


async def _call(
    app: Any, method: str, path: str, body: bytes, key: str | None
) -> tuple[int, bytes]:
    headers: Headers = [
        (b"authorization", f"Bearer {TOKEN}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"user-agent", b"svix-libs/1.84.0/python"),
    ]
    if key is not None:
        headers.append((b"idempotency-key", key.encode()))
    delivered = False
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            chunks.append(message.get("body", b""))

    await app(_scope(method, path, headers), receive, send)
    return status, b"".join(chunks)


async def run(count: int, concurrency: int) -> tuple[float, float]:
    """CPU seconds per create and creates per second."""
    from hookd import gc_tuning
    from hookd.api.app import create_server
    from hookd.api.auth import ApiKeys
    from hookd.cli import configure_logging, prepare_schema, prepare_secrets
    from hookd.config import Settings
    from hookd.engine.runtime import Runtime
    from hookd.store.db import Database

    configure_logging("INFO", log_format="json")  # as `hookd serve` logs: one line a request
    directory = Path(tempfile.mkdtemp(prefix="hookd-inproc-"))
    settings = Settings(
        database_url=f"sqlite:///{directory / 'hookd.db'}", admin_token=TOKEN, main_key=MAIN_KEY
    )
    db = Database(settings.effective_database_url)
    await prepare_schema(db)
    await prepare_secrets(db, settings)
    app = create_server(Runtime(settings, db), ApiKeys.admin(TOKEN))
    lifespan: asyncio.Queue[Message] = asyncio.Queue()
    started = asyncio.Event()

    async def lifespan_send(message: Message) -> None:
        started.set()

    async def lifespan_run() -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        await app(scope, lifespan.get, lifespan_send)

    life = asyncio.create_task(lifespan_run())
    await lifespan.put({"type": "lifespan.startup"})
    await started.wait()
    status, answer = await _call(app, "POST", "/api/v1/app", b'{"name":"bench"}', None)
    assert status == 201, answer
    create_path = f"/api/v1/app/{orjson.loads(answer)['id']}/msg"
    body = orjson.dumps({"eventType": EVENT_TYPE, "payload": payload_object()})
    gc_tuning.settle()

    async def producer(n: int) -> None:
        for _ in range(n):
            status, answer = await _call(app, "POST", create_path, body, uuid.uuid4().hex)
            assert status == 201, answer

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(producer(count // concurrency) for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await lifespan.put({"type": "lifespan.shutdown"})
    await life
    done = count // concurrency * concurrency
    return cpu / done, done / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=8_000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    per_create, per_second = uvloop.run(run(args.count, args.concurrency))
    print("| creates | CPU µs per create | creates/s |\n| ---: | ---: | ---: |")
    print(f"| {args.count:,} | {per_create * 1e6:.0f} | {per_second:,.0f} |")


if __name__ == "__main__":
    main()
