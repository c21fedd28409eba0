"""Load generator for hookd: creates messages through the API, closed-loop or at a fixed rate.

Run as ``python -m bench.loadgen ...``; it writes one line per message
(``msg_id sent_at answered_at status``, Unix seconds) and a summary line, then exits. It stops by
itself after ``--deadline`` seconds whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from pathlib import Path

import aiohttp
import orjson
import uvloop

from bench.payload import EVENT_TYPE, payload_object

Record = tuple[str, float, float, int]
# What the svix SDK (1.x, Python) sends with every create besides the body: its user agent, a
# request id and, on a POST, an idempotency key of its own (``svix.api.common``).
SVIX_USER_AGENT = "svix-libs/1.84.0/python"


def svix_headers() -> dict[str, str]:
    """The per-request headers of the svix SDK's create (``--svix``)."""
    return {
        "svix-req-id": str(random.getrandbits(64)),
        "idempotency-key": f"auto_{uuid.uuid4()}",
    }


async def create_one(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    records: list[Record],
    svix: bool = False,
) -> None:
    sent = time.time()
    try:
        extra = svix_headers() if svix else None
        async with session.post(url, data=body, headers=extra) as response:
            data = await response.read()
            status = response.status
    except (aiohttp.ClientError, OSError):
        records.append(("-", sent, time.time(), 0))
        return
    answered = time.time()
    msg_id = orjson.loads(data).get("id", "-") if status == 201 else "-"
    records.append((msg_id, sent, answered, status))


async def closed_loop(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    count: int,
    concurrency: int,
    svix: bool = False,
) -> list[Record]:
    records: list[Record] = []
    remaining = iter(range(count))

    async def worker() -> None:
        for _ in remaining:
            await create_one(session, url, body, records, svix)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return records


async def fixed_rate(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    count: int,
    rate: float,
    cap: int,
    svix: bool = False,
) -> tuple[list[Record], int]:
    """Open loop: message ``i`` starts at ``t0 + i / rate`` (late starts are counted)."""
    records: list[Record] = []
    tasks: set[asyncio.Task[None]] = set()
    late = 0
    start = time.monotonic()
    for i in range(count):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.005:
            late += 1
        while len(tasks) >= cap:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        task = asyncio.create_task(create_one(session, url, body, records, svix))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks)
    return records, late


async def run(args: argparse.Namespace) -> None:
    # The svix SDK's shape: no query (the answer carries the payload back), its headers.
    url = f"{args.base_url}/api/v1/app/{args.app}/msg"
    if not args.svix:
        url += "?with_content=false"
    body = orjson.dumps({"eventType": EVENT_TYPE, "payload": payload_object()})
    headers = {"Authorization": f"Bearer {args.token}", "Content-Type": "application/json"}
    if args.svix:
        headers["User-Agent"] = SVIX_USER_AGENT
    connector = aiohttp.TCPConnector(limit=max(args.concurrency, 1))
    started = time.time()
    late = 0
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        if args.rate > 0:
            opened = fixed_rate(
                session, url, body, args.count, args.rate, args.concurrency, args.svix
            )
            records, late = await asyncio.wait_for(opened, args.deadline)
        else:
            closed = closed_loop(session, url, body, args.count, args.concurrency, args.svix)
            records = await asyncio.wait_for(closed, args.deadline)
    cpu = time.process_time()
    lines = [
        f"{msg_id} {sent:.6f} {answered:.6f} {status}" for msg_id, sent, answered, status in records
    ]
    summary = {"started": started, "finished": time.time(), "cpu_seconds": cpu, "late": late}
    Path(args.out).write_text("\n".join(lines) + "\n#" + orjson.dumps(summary).decode() + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--app", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=0.0, help="messages/s; 0 = closed loop")
    parser.add_argument("--deadline", type=float, default=300.0)
    parser.add_argument("--out", required=True)
    parser.add_argument(
        "--svix",
        action="store_true",
        help="the svix SDK's request: its headers, an idempotency key each, the payload answered",
    )
    uvloop.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
