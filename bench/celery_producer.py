"""Celery producer: calls ``deliver.delay()`` ``--count`` times, round-robin over ``--url``s.

Writes ``webhook_id enqueued_at`` lines and a summary, then exits.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import orjson

from bench.celery_app import deliver
from bench.payload import payload_bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", action="append", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    body = payload_bytes().decode()
    urls: list[str] = args.url
    sent: list[tuple[str, float]] = []
    started = time.time()
    for i in range(args.count):
        msg_id = f"cel_{i:09d}"
        sent.append((msg_id, time.time()))
        deliver.delay(urls[i % len(urls)], msg_id, body)
    summary = {"started": started, "finished": time.time(), "cpu_seconds": time.process_time()}
    lines = [f"{msg_id} {at:.6f}" for msg_id, at in sent]
    Path(args.out).write_text("\n".join(lines) + "\n#" + orjson.dumps(summary).decode() + "\n")


if __name__ == "__main__":
    main()
