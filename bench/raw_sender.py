"""The raw ceiling: one process signing and POSTing the same 1 KiB body with aiohttp.

No persistence, no queue: ``--concurrency`` coroutines share one session (the same connector
limits as hookd's sender) and send ``--count`` requests round-robin over ``--url``s. Writes
``webhook_id sent_at`` lines and a summary, then exits (bounded by ``--deadline``).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import aiohttp
import orjson
import uvloop

from bench.payload import payload_bytes
from hookd.core.signing import generate_hmac_secret, parse_signing_key, signature_header
from hookd.engine.http.sender import CONNECTIONS_PER_HOST

# hookd's HttpSender uses these connector limits; the ceiling is measured with the same.
CONNECTOR_LIMIT = 256
LIMIT_PER_HOST = CONNECTIONS_PER_HOST


async def run(args: argparse.Namespace) -> None:
    body = payload_bytes()
    keys = [parse_signing_key(generate_hmac_secret())]
    urls: list[str] = args.url
    sent: list[tuple[str, float]] = []
    errors = 0
    remaining = iter(range(args.count))
    connector = aiohttp.TCPConnector(limit=CONNECTOR_LIMIT, limit_per_host=LIMIT_PER_HOST)

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        for i in remaining:
            msg_id = f"raw_{i:09d}"
            now = time.time()
            timestamp = int(now)
            headers = {
                "Content-Type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": signature_header(keys, msg_id, timestamp, body),
            }
            sent.append((msg_id, now))
            try:
                async with session.post(urls[i % len(urls)], data=body, headers=headers) as resp:
                    await resp.read()
                    if resp.status >= 300:
                        errors += 1
            except (aiohttp.ClientError, OSError):
                errors += 1

    started = time.time()
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.wait_for(
            asyncio.gather(*(worker(session) for _ in range(args.concurrency))), args.deadline
        )
    summary = {
        "started": started,
        "finished": time.time(),
        "cpu_seconds": time.process_time(),
        "errors": errors,
    }
    lines = [f"{msg_id} {at:.6f}" for msg_id, at in sent]
    Path(args.out).write_text("\n".join(lines) + "\n#" + orjson.dumps(summary).decode() + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", action="append", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--deadline", type=float, default=300.0)
    parser.add_argument("--out", required=True)
    uvloop.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
