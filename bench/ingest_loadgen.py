"""Load generator for the ingest scenario: POSTs Stripe-signed events, closed loop.

Run as ``python -m bench.ingest_loadgen --url URL --secret whsec_... --count N ...``. Every event
has its own id (so none is a duplicate) and is signed before the clock starts, so the generator
spends its measured time on HTTP only. The same generator, with the same options, loads hookd's
``/in/{source}`` and the bare Starlette baseline. It writes a JSON summary and exits; it stops by
itself after ``--deadline`` seconds whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import time
from pathlib import Path

import aiohttp
import orjson
import uvloop

from bench.payload import payload_object


def signed_requests(count: int, secret: str, run_id: str) -> list[tuple[bytes, dict[str, str]]]:
    """``count`` Stripe-style events (about 1 KiB each) with valid ``Stripe-Signature`` headers."""
    timestamp = str(int(time.time()))
    data = payload_object()
    out = []
    for i in range(count):
        body = orjson.dumps(
            {
                "id": f"evt_{run_id}_{i}",
                "object": "event",
                "type": "invoice.paid",
                "created": int(timestamp),
                "data": {"object": data},
            }
        )
        digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": f"t={timestamp},v1={digest.hexdigest()}",
        }
        out.append((body, headers))
    return out


async def closed_loop(
    url: str, requests: list[tuple[bytes, dict[str, str]]], concurrency: int
) -> dict[str, int]:
    statuses: dict[str, int] = {}
    pending = iter(requests)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            for body, headers in pending:
                try:
                    async with session.post(url, data=body, headers=headers) as response:
                        await response.read()
                        key = str(response.status)
                except (aiohttp.ClientError, OSError):
                    key = "error"
                statuses[key] = statuses.get(key, 0) + 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


def _ok(statuses: dict[str, int]) -> int:
    return sum(n for status, n in statuses.items() if status.startswith("2"))


async def run(args: argparse.Namespace) -> None:
    requests = signed_requests(args.warmup + args.count, args.secret, args.run_id)
    # Not measured: the first connections, and whatever the server does lazily on first use.
    warmup = await closed_loop(args.url, requests[: args.warmup], args.concurrency)
    requests = requests[args.warmup :]
    cpu_before = time.process_time()
    started = time.time()
    statuses = await asyncio.wait_for(
        closed_loop(args.url, requests, args.concurrency), args.deadline
    )
    finished = time.time()
    summary = {
        "started": started,
        "finished": finished,
        "statuses": statuses,
        "ok": _ok(statuses),
        "warmup_ok": _ok(warmup),
        "cpu_seconds": time.process_time() - cpu_before,
    }
    Path(args.out).write_bytes(orjson.dumps(summary))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=200, help="requests sent before timing")
    parser.add_argument("--run-id", default="run")
    parser.add_argument("--deadline", type=float, default=300.0)
    parser.add_argument("--out", required=True)
    uvloop.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
