"""A listener that accepts connections, reads what comes and never answers (a hung endpoint).

Run as ``python -m bench.blackhole --port P [--port Q ...] --max-seconds N``; it exits by itself
after ``N`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio


class Silent(asyncio.Protocol):
    def data_received(self, data: bytes) -> None:
        """Swallow the request; the reply never comes."""


async def serve(ports: list[int], max_seconds: float) -> None:
    loop = asyncio.get_running_loop()
    servers = [await loop.create_server(Silent, "127.0.0.1", port, backlog=4096) for port in ports]
    try:
        await asyncio.sleep(max_seconds)
    finally:
        for server in servers:
            server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, action="append", required=True)
    parser.add_argument("--max-seconds", type=float, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.max_seconds))


if __name__ == "__main__":
    main()
